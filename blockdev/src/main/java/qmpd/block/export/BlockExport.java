package qmpd.block.export;

import qmpd.aio.annotation.GlobalState;
import qmpd.block.BlockNode;

/** An export of a block node to outside clients (QEMU's BlockExport): NBD today. */
public interface BlockExport {
    String id();

    /** The export type on the wire, e.g. {@code "nbd"}. */
    String type();

    BlockNode node();

    @GlobalState
    boolean shuttingDown();

    /** Whether clients are connected (block-export-del mode=safe refuses then). */
    @GlobalState
    boolean inUse();

    /** Stops serving; {@code gone} runs in the main loop when nothing refers to the node any more. */
    @GlobalState
    void shutdown(boolean hard, Runnable gone);
}
