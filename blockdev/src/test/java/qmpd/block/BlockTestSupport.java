package qmpd.block;

import qmpd.aio.AioContext;

import java.nio.ByteBuffer;

/** Drives one request to completion by polling the test thread's own context (no sleeps). */
final class BlockTestSupport {
    private BlockTestSupport() {
    }

    static int io(AioContext ctx, BlockNode node, BlockOp op, long offset, ByteBuffer buf, int length, int flags) {
        int[] result = {Integer.MIN_VALUE};
        BlockRequest req = new BlockRequest();
        req.set(op, offset, length, buf, flags, r -> result[0] = r.result());
        node.submit(req);
        while (result[0] == Integer.MIN_VALUE) {
            ctx.poll(true);
        }
        return result[0];
    }

    static BlockRequest status(AioContext ctx, BlockNode node, long offset, int length) {
        boolean[] done = {false};
        BlockRequest req = new BlockRequest();
        req.set(BlockOp.BLOCK_STATUS, offset, length, null, 0, r -> done[0] = true);
        node.submit(req);
        while (!done[0]) {
            ctx.poll(true);
        }
        return req;
    }

    static ByteBuffer pattern(int length, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(length);
        for (int i = 0; i < length; i++) {
            b.put(i, (byte) (seed + i * 31));
        }
        return b;
    }
}
