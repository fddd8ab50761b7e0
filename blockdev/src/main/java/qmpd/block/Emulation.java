package qmpd.block;

import qmpd.aio.annotation.HomeThread;

import java.nio.ByteBuffer;

/**
 * What the node layer does for a driver that lacks an operation (nbdkit's EMULATE): FUA as a write
 * followed by a flush, WRITE_ZEROES as writes of a shared zero buffer. These paths allocate a
 * request per step; drivers that care about their speed implement the operation natively.
 */
final class Emulation {

    /** Zeroes for emulated WRITE_ZEROES; shared read-only, every user takes a duplicate. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final BlockNode node;
    final BlockCompletion flushAfterWrite = this::flushAfterWrite;

    Emulation(BlockNode node) {
        this.node = node;
    }

    /** After a successful write with FUA: flush, then complete the write with the flush's verdict. */
    @HomeThread
    private void flushAfterWrite(BlockRequest write) {
        if (write.failed()) {
            write.complete(write.result());
            return;
        }
        int written = write.result();
        BlockRequest flush = new BlockRequest();
        flush.set(BlockOp.FLUSH, 0, 0, null, BlockRequest.FLAG_NONE,
                f -> write.complete(f.failed() ? f.result() : written));
        node.submitToDriver(flush);
    }

    /** Writes zeroes chunk by chunk, one after the other; flushes at the end when FUA is asked. */
    @HomeThread
    void writeZeroes(BlockRequest req) {
        new ZeroWriter(req).next(0);
    }

    private final class ZeroWriter {
        private final BlockRequest req;
        private final BlockRequest chunk = new BlockRequest();
        private long done;

        ZeroWriter(BlockRequest req) {
            this.req = req;
        }

        void next(int lastResult) {
            if (lastResult < 0) {
                req.complete(lastResult);
                return;
            }
            long remaining = req.length() - done;
            if (remaining == 0) {
                if (req.hasFlag(BlockRequest.FLAG_FUA)) {
                    chunk.set(BlockOp.FLUSH, 0, 0, null, BlockRequest.FLAG_NONE, f -> req.complete(f.result()));
                    node.submitToDriver(chunk);
                } else {
                    req.complete(0);
                }
                return;
            }
            int n = (int) Math.min(remaining, ZEROES.capacity());
            ByteBuffer zeroes = ZEROES.duplicate().limit(n);
            long offset = req.offset() + done;
            done += n;
            chunk.set(BlockOp.WRITE, offset, n, zeroes, BlockRequest.FLAG_NONE, c -> next(c.result()));
            node.submitToDriver(chunk);
        }
    }
}
