package qmpd.block;

import qmpd.aio.AioContext;
import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.HomeThread;

import java.util.List;

/**
 * The per-node state of a driver (QEMU's bs->opaque plus the driver's callbacks). All I/O methods
 * run in the node's home thread; requests reaching them are already checked against size,
 * permissions and alignment. Every optional operation defaults to {@link Support#EMULATE} or
 * {@link Support#NONE}, so a driver overrides only what it does natively.
 */
public interface BlockDriverState extends AutoCloseable {

    /** The driver's name, for query-named-block-nodes. */
    String driverName();

    /** Size in bytes. */
    @HomeThread
    long size();

    /** The request alignment in bytes (1 for byte-granular drivers; 512 or 4096 for O_DIRECT). */
    default int requestAlignment() {
        return 1;
    }

    /** The concurrency the driver copes with. */
    default Concurrency concurrency() {
        return Concurrency.PARALLEL;
    }

    /** Starts a checked request; calls {@link BlockRequest#complete} once, now or later, in the home thread. */
    @HomeThread
    void submit(BlockRequest req);

    default Support fua() {
        return Support.EMULATE;
    }

    default Support writeZeroes() {
        return Support.EMULATE;
    }

    default Support discard() {
        return Support.NONE;
    }

    default Support blockStatus() {
        return Support.EMULATE;
    }

    /** Whether reads of never-written ranges return zeroes (for BLOCK_STATUS emulation). */
    default boolean unallocatedReadsZero() {
        return false;
    }

    /**
     * The image's file name as QEMU reports it in query-named-block-nodes: a host path, or null
     * when the node has none (the monitor then describes it by its options, as {@code json:{...}}).
     */
    default String filename() {
        return null;
    }

    /** Changes the size; the node checks the resize permission first. */
    @GlobalState
    default void truncate(long newSize) {
        throw new qmpd.config.error.QmpException.GenericError("Image format driver does not support resize");
    }

    /** The node's children, as opened: the graph records them as edges. */
    default List<BlockChild> children() {
        return List.of();
    }

    /**
     * Whether this driver takes debug events (QEMU's bdrv_debug_event hook, blkdebug's rules).
     * A node whose driver does not passes an event on to its first child, as QEMU does.
     */
    default boolean takesDebugEvents() {
        return false;
    }

    /** A debug event reached this node (one of QEMU's BlkdebugEvent names, see {@link DebugEvents}). */
    @HomeThread
    default void debugEvent(String event) {
    }

    /** The node is about to move out of {@code ctx}; it is drained. Drop anything tied to the old thread. */
    @GlobalState
    default void detachContext(AioContext ctx) {
    }

    /** The node now lives in {@code ctx}; it is still drained. */
    @GlobalState
    default void attachContext(AioContext ctx) {
    }

    /** Releases the driver's resources; the node is drained and has no users. */
    @GlobalState
    @Override
    default void close() {
    }
}
