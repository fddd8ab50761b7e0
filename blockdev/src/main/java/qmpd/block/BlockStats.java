package qmpd.block;

import qmpd.aio.annotation.AnyThread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Per-node I/O accounting for query-blockstats and metrics (QEMU's BlockAcctStats).
 *
 * <p>Single writer: only the node's home thread updates the counters, with a plain read and a
 * release store (no atomic read-modify-write on the I/O path); any thread reads them with acquire
 * loads. During a context move the writer changes, but only inside a drained section, whose
 * hand-off (the wait in the main loop, the resume BH) orders the two writers.
 */
public final class BlockStats {

    /** The operations accounted separately, indexes into the arrays below. */
    public enum Kind { READ, WRITE, FLUSH, ZERO, DISCARD }

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int KINDS = Kind.values().length;

    private final long[] ops = new long[KINDS];
    private final long[] bytes = new long[KINDS];
    private final long[] totalTimeNs = new long[KINDS];
    private final long[] failed = new long[KINDS];
    private final long[] invalid = new long[KINDS];
    private final long[] lastCompletionNs = new long[1];

    /** Upper bounds of the latency buckets: 10 µs to 10 s in 1-2.5-5 steps; one more bucket above. */
    private static final long[] LATENCY_BOUNDS_NS = {10_000L, 25_000L, 50_000L, 100_000L, 250_000L, 500_000L,
        1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L,
        500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L};
    /** Buckets per operation kind: one per bound, then everything slower. */
    public static final int LATENCY_BUCKETS = LATENCY_BOUNDS_NS.length + 1;
    /** Successful requests by kind and latency bucket (not cumulative). */
    private final long[] latency = new long[KINDS * LATENCY_BUCKETS];

    static Kind kindOf(BlockOp op) {
        return switch (op) {
            case READ, BLOCK_STATUS -> Kind.READ;
            case WRITE -> Kind.WRITE;
            case FLUSH -> Kind.FLUSH;
            case WRITE_ZEROES -> Kind.ZERO;
            case DISCARD -> Kind.DISCARD;
        };
    }

    private static void add(long[] a, int i, long delta) {
        LONGS.setRelease(a, i, a[i] + delta);
    }

    private static long get(long[] a, int i) {
        return (long) LONGS.getAcquire(a, i);
    }

    /** Accounts a completed request; home thread only. BLOCK_STATUS is not accounted (QEMU does not). */
    void done(BlockOp op, int length, int result, long latencyNs, long nowNs) {
        if (op == BlockOp.BLOCK_STATUS) {
            return;
        }
        int k = kindOf(op).ordinal();
        if (result < 0) {
            add(failed, k, 1);
        } else {
            add(ops, k, 1);
            add(bytes, k, op == BlockOp.FLUSH ? 0 : length);
            add(totalTimeNs, k, latencyNs);
            add(latency, k * LATENCY_BUCKETS + latencyBucket(latencyNs), 1);
        }
        LONGS.setRelease(lastCompletionNs, 0, nowNs);
    }

    /** Accounts a request refused before it reached the driver (bad range); home thread only. */
    void invalid(BlockOp op) {
        if (op != BlockOp.BLOCK_STATUS) {
            add(invalid, kindOf(op).ordinal(), 1);
        }
    }

    /** The bucket a latency falls in: the first bound it does not exceed (a short scan, no allocation). */
    static int latencyBucket(long ns) {
        int i = 0;
        while (i < LATENCY_BOUNDS_NS.length && ns > LATENCY_BOUNDS_NS[i]) {
            i++;
        }
        return i;
    }

    /** The upper bound of bucket {@code i} in seconds; +Inf for the last. */
    @AnyThread
    public static double latencyBoundSeconds(int i) {
        return i < LATENCY_BOUNDS_NS.length ? LATENCY_BOUNDS_NS[i] / 1e9 : Double.POSITIVE_INFINITY;
    }

    /** Successful requests of kind {@code k} whose latency fell in bucket {@code i} (not cumulative). */
    @AnyThread
    public long latencyCount(Kind k, int i) {
        return get(latency, k.ordinal() * LATENCY_BUCKETS + i);
    }

    public long ops(Kind k) {
        return get(ops, k.ordinal());
    }

    public long bytes(Kind k) {
        return get(bytes, k.ordinal());
    }

    public long totalTimeNs(Kind k) {
        return get(totalTimeNs, k.ordinal());
    }

    public long failed(Kind k) {
        return get(failed, k.ordinal());
    }

    public long invalid(Kind k) {
        return get(invalid, k.ordinal());
    }

    /** System.nanoTime of the last completion, or 0 if none yet (for idle_time_ns). */
    public long lastCompletionNs() {
        return get(lastCompletionNs, 0);
    }
}
