package qmpd.block;

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
        }
        LONGS.setRelease(lastCompletionNs, 0, nowNs);
    }

    /** Accounts a request refused before it reached the driver (bad range); home thread only. */
    void invalid(BlockOp op) {
        if (op != BlockOp.BLOCK_STATUS) {
            add(invalid, kindOf(op).ordinal(), 1);
        }
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
