package qmpd.block.driver.nullco;

import qmpd.aio.AioContext;
import qmpd.aio.AioTimer;
import qmpd.aio.pool.ThreadPool;
import qmpd.block.BlockDriver;
import qmpd.block.BlockDriverState;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.block.NativeOperations;
import qmpd.block.Support;
import qmpd.config.schema.block.BlockdevOptions;

import java.nio.ByteBuffer;

/**
 * The whole null-co and null-aio drivers (QEMU block/null.c): reads return zeroes if asked (else
 * the buffer is left as it is), writes vanish. null-co completes inline; null-aio completes every
 * request through the context's worker pool, to measure that hand-off. {@code latency-ns} delays
 * each completion by a timer, never by blocking.
 */
public final class NullDriver implements BlockDriver {

    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();

    private final String name;

    public NullDriver(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BlockDriverState open(BlockdevOptions options, OpenEnv env) {
        return switch (options) {
            case BlockdevOptions.NullCo o -> new State(name, o.size(), o.readZeroes(), o.latencyNs(), false, env.context());
            case BlockdevOptions.NullAio o -> new State(name, o.size(), o.readZeroes(), o.latencyNs(), true, env.context());
            default -> throw new IllegalArgumentException("not null options: " + options.driver());
        };
    }

    /** One null node. Its fields are fixed at open, except {@code ctx} (changed while drained). */
    private static final class State implements NativeOperations {   // nothing to make stable
        private final String driverName;
        private final long size;
        private final boolean readZeroes;
        private final long latencyNs;
        private final boolean viaPool;
        private AioContext ctx;

        State(String driverName, long size, boolean readZeroes, long latencyNs, boolean viaPool, AioContext ctx) {
            this.driverName = driverName;
            this.size = size;
            this.readZeroes = readZeroes;
            this.latencyNs = latencyNs;
            this.viaPool = viaPool;
            this.ctx = ctx;
        }

        @Override
        public String driverName() {
            return driverName;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void submit(BlockRequest req) {
            if (req.op() == BlockOp.READ && readZeroes) {
                ByteBuffer b = req.buffer();
                int pos = b.position();
                for (int done = 0; done < req.length(); ) {
                    int n = Math.min(req.length() - done, ZEROES.capacity());
                    b.put(pos + done, ZEROES, 0, n);
                    done += n;
                }
            } else if (req.op() == BlockOp.BLOCK_STATUS) {
                // QEMU reports null ranges as unallocated, and as zero when reads return zeroes.
                req.setStatus(req.length(), readZeroes ? BlockRequest.STATUS_ZERO : 0);
            }
            int result = req.op() == BlockOp.READ || req.op() == BlockOp.WRITE ? req.length() : 0;
            if (latencyNs > 0) {
                AioTimer[] timer = new AioTimer[1];
                timer[0] = ctx.timerNew("null-latency", () -> {
                    timer[0].del();
                    finish(req, result);
                });
                timer[0].modNs(System.nanoTime() + latencyNs);
            } else {
                finish(req, result);
            }
        }

        private void finish(BlockRequest req, int result) {
            if (viaPool) {
                ThreadPool.of(ctx).submit("null-aio", () -> result)
                        .result().whenComplete((r, e) -> req.complete(e == null ? r : -qmpd.block.Errno.EIO));
            } else {
                req.complete(result);
            }
        }

        @Override
        public void attachContext(AioContext newCtx) {
            this.ctx = newCtx;
        }
    }
}
