package qmpd.block;

import qmpd.aio.annotation.GlobalState;
import qmpd.config.schema.block.BlockdevOptions;

/**
 * One format or protocol driver (QEMU's BlockDriver, nbdkit's plugin): a name and a way to open a
 * node's state from its options. Kept small, like block/null.c: the node layer does checking,
 * accounting, draining and emulation of what the driver lacks.
 */
public interface BlockDriver {

    /** The {@code driver} value in {@code blockdev-add}, e.g. {@code "null-co"}. */
    String name();

    /** Opens the driver state of a new node. Blocking work (open(2)) is allowed: it runs at graph build time. */
    @GlobalState
    BlockDriverState open(BlockdevOptions options, OpenEnv env);

    /** What a driver may ask of the graph while it opens: other nodes by name, the node's context. */
    interface OpenEnv {
        /** An existing node referenced by name, or a {@code DeviceNotFound}-class QmpException. */
        BlockNode lookup(String nodeName);

        /** Builds an inline child (e.g. raw's {@code file}) and returns it; it is owned by the new node. */
        BlockNode openInline(BlockdevOptions childOptions);

        /** The context the new node will live in (a child's, or the main loop's). */
        qmpd.aio.AioContext context();
    }
}
