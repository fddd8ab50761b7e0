package qmpd.aio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One context's counters, for metrics (the metrics module reads {@link AioStats} snapshots).
 *
 * <p>Written only by the home thread, with {@code setOpaque}: no fence and no lock on the loop's
 * path, yet no torn longs. Read from any thread with {@code getOpaque}: each value is current,
 * the snapshot as a whole is not atomic. No LongAdder: there is exactly one writer.
 */
final class LoopCounters {
    static final int ITERATIONS = 0, BHS = 1, FD_EVENTS = 2, NOTIFIER_EVENTS = 3, TIMERS = 4,
            POLL_HITS = 5, BUSY_NS = 6, BLOCKED_NS = 7, DISPATCH_NS = 8, POLL_WINDOW = 9, ERRORS = 10;
    private static final int COUNT = 11;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[COUNT];

    /** Home thread only. */
    void add(int slot, long delta) {
        SLOT.setOpaque(slots, slot, (long) SLOT.getOpaque(slots, slot) + delta);
    }

    /** Home thread only. */
    void set(int slot, long value) {
        SLOT.setOpaque(slots, slot, value);
    }

    private long get(int slot) {
        return (long) SLOT.getOpaque(slots, slot);
    }

    /** Any thread. */
    AioStats snapshot() {
        return new AioStats(get(ITERATIONS), get(BHS), get(FD_EVENTS), get(NOTIFIER_EVENTS), get(TIMERS),
                get(POLL_HITS), get(BUSY_NS), get(BLOCKED_NS), get(DISPATCH_NS), get(POLL_WINDOW), get(ERRORS));
    }
}
