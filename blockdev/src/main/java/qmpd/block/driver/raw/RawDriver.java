package qmpd.block.driver.raw;

import qmpd.block.BlockChild;
import qmpd.block.BlockCompletion;
import qmpd.block.BlockDriver;
import qmpd.block.BlockDriverState;
import qmpd.block.BlockNode;
import qmpd.block.BlockRequest;
import qmpd.block.Concurrency;
import qmpd.block.DebugEvents;
import qmpd.block.NativeOperations;
import qmpd.block.Support;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;

import java.util.List;

/**
 * QEMU's raw format: the child's bytes, optionally a window of them ({@code offset}, {@code size}).
 * Requests pass to the child shifted by the offset; the child node emulates what its driver lacks,
 * so raw claims every operation natively.
 */
public final class RawDriver implements BlockDriver {

    @Override
    public String name() {
        return "raw";
    }

    @Override
    public BlockDriverState open(BlockdevOptions options, OpenEnv env) {
        BlockdevOptions.Raw o = (BlockdevOptions.Raw) options;
        BlockNode child = o.fileNodeName() != null ? env.lookup(o.fileNodeName()) : env.openInline(o.fileInline());
        long childSize = child.size();
        if (o.offset() > childSize) {
            throw new QmpException.GenericError("The sum of offset (" + o.offset() + ") and size (0) has to be"
                    + " smaller or equal to the  actual size of the containing file (" + childSize + ")");
        }
        if (o.size() != null && o.offset() + o.size() > childSize) {
            throw new QmpException.GenericError("The sum of offset (" + o.offset() + ") and size (" + o.size()
                    + ") has to be smaller or equal to the  actual size of the containing file (" + childSize + ")");
        }
        if (!o.readOnly() && child.readOnly()) {
            throw new QmpException.GenericError("Cannot open node '" + child.nodeName() + "' writable: it is read-only");
        }
        return new State(child, o.offset(), o.size());
    }

    private static final class State implements NativeOperations {
        private final BlockNode child;
        private final long offset;
        private final Long fixedSize;
        private final BlockCompletion passBack = req -> req.complete(req.result());
        /** Whether anything below takes debug events; asked once, so plain I/O pays one branch. */
        private final boolean emitEvents;

        State(BlockNode child, long offset, Long fixedSize) {
            this.child = child;
            this.offset = offset;
            this.fixedSize = fixedSize;
            this.emitEvents = child.takesDebugEvents();
        }

        @Override
        public String driverName() {
            return "raw";
        }

        @Override
        public String filename() {
            // A window of the child is described by options, as QEMU does; the whole child by its name.
            return offset == 0 && fixedSize == null ? child.driverState().filename() : null;
        }

        @Override
        public long size() {
            return fixedSize != null ? fixedSize : child.size() - offset;
        }

        @Override
        public Concurrency concurrency() {
            return Concurrency.PARALLEL;
        }

        @Override
        public void submit(BlockRequest req) {
            if (emitEvents) {
                emitEvent(req);
            }
            if (offset != 0) {
                req.push(passBack);   // restores the caller's offset on completion
                req.relocate(req.offset() + offset);
            }
            child.submitFromParent(req);
        }

        /** The events QEMU's raw format and bdrv_co_flush emit on the file child (blkdebug's triggers). */
        private void emitEvent(BlockRequest req) {
            switch (req.op()) {
                case READ -> child.debugEvent(DebugEvents.READ_AIO);
                case WRITE -> child.debugEvent(DebugEvents.WRITE_AIO);
                case FLUSH -> {
                    child.debugEvent(DebugEvents.FLUSH_TO_OS);
                    child.debugEvent(DebugEvents.FLUSH_TO_DISK);
                }
                default -> { }
            }
        }

        @Override
        public void truncate(long newSize) {
            if (fixedSize != null || offset != 0) {
                throw new QmpException.GenericError("Cannot resize a raw node with offset or size");
            }
            child.driverState().truncate(newSize);
        }

        @Override
        public List<BlockChild> children() {
            return List.of(new BlockChild("file", BlockChild.Role.FILE, child));
        }
    }
}
