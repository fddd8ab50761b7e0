package qmpd.aio;

import java.util.Objects;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;

/**
 * A one-shot timer on the {@link System#nanoTime} clock (QEMU_CLOCK_REALTIME's monotonic role),
 * fired in its context's home thread. Re-arm it from its callback for periodic work.
 *
 * <p>The loop sleeps in epoll_wait with millisecond granularity (rounded up, as QEMU's
 * fdmon-epoll does), so a timer fires at or after its deadline, up to about 1 ms late when idle.
 */
public final class AioTimer {
    private final AioContext context;
    private final String name;
    final Runnable callback;
    /** Home thread (or acquirer) only, like every field below. */
    long deadlineNs;
    /** Tie-breaker: timers with equal deadlines fire in arming order. */
    long seq;
    /** Position in the context's TimerHeap, or -1 when not armed. */
    int heapIndex = -1;

    AioTimer(AioContext context, String name, Runnable callback) {
        this.context = context;
        this.name = Objects.requireNonNull(name, "name");
        this.callback = Objects.requireNonNull(callback, "callback");
    }

    @AnyThread
    public String name() {
        return name;
    }

    /** Arms (or re-arms) the timer to fire once at {@code deadlineNs} ({@code System.nanoTime()} scale). */
    @HomeThread
    public void modNs(long deadlineNs) {
        context.timerMod(this, deadlineNs);
    }

    /** Disarms the timer; harmless if not armed (QEMU timer_del). */
    @HomeThread
    public void del() {
        context.timerDel(this);
    }

    /** Whether the timer is armed. */
    @HomeThread
    public boolean isPending() {
        return heapIndex >= 0;
    }

    /** The armed deadline, or -1 if not armed. */
    @HomeThread
    public long expireTimeNs() {
        return heapIndex >= 0 ? deadlineNs : -1;
    }

    @Override
    public String toString() {
        return "AioTimer[" + name + "]";
    }
}
