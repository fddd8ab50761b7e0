package qmpd.aio;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;

/**
 * Waiting for a condition that callbacks make false (QEMU's AIO_WAIT_WHILE, util/aio-wait.c).
 *
 * <p>In a context's home thread the wait simply polls that context. The main loop may also wait
 * on an IOThread's context: it then polls its own context, and is woken by {@link #kick}, which
 * every productive IOThread iteration calls (and any other code that changes a waited-for
 * condition must call). Before polling it releases <em>every</em> level of the IOThread's context
 * it holds and takes them back after: releasing one level of a doubly acquired context is how
 * QEMU's savevm hung (STYLE.md §3 trap 1).
 */
public final class AioWait {
    /** Waits in progress (QEMU's global_aio_wait.num_waiters). */
    private static final AtomicInteger WAITERS = new AtomicInteger();
    private static volatile AioContext mainContext;

    private AioWait() {}

    static void setMainContext(AioContext ctx) {
        mainContext = ctx;
    }

    /**
     * Polls until {@code condition} is false. The caller is {@code ctx}'s home thread, or the main
     * loop (waiting on an IOThread's context).
     *
     * @throws IllegalStateException if the caller is another IOThread or a thread without a context
     *         (trap 6: never wait from one IOThread on another), or holds a context other than
     *         {@code ctx} (trap 2: polling would run callbacks inside that critical section)
     */
    @HomeThread
    public static void waitWhile(AioContext ctx, BooleanSupplier condition) {
        AioContext caller = AioContext.current();
        AioContext other = HeldContexts.OF_THREAD.get().anyOtherThan(ctx);
        if (other != null) {
            throw new IllegalStateException("AioWait on '" + ctx.name() + "' while holding AioContext '"
                    + other.name() + "'");
        }
        if (ctx.inHomeThread()) {
            while (condition.getAsBoolean()) ctx.poll(true);
            return;
        }
        if (caller == null || !caller.isMain()) {
            throw new IllegalStateException("AioWait on '" + ctx.name() + "' from " + Thread.currentThread().getName()
                    + ": only its home thread or the main loop may wait on a context");
        }
        WAITERS.incrementAndGet();
        int levels = ctx.releaseAllLevels();
        try {
            while (condition.getAsBoolean()) caller.poll(true);
        } finally {
            WAITERS.decrementAndGet();
            ctx.reacquireLevels(levels);
        }
    }

    /**
     * Wakes the main loop if it is in {@link #waitWhile}, so it re-evaluates its condition (QEMU
     * aio_wait_kick). Call it after changing the condition; the fence orders that change before
     * the waiter count is read.
     */
    @AnyThread
    public static void kick() {
        VarHandle.fullFence();
        if (WAITERS.get() > 0) {
            AioContext m = mainContext;
            if (m != null && !m.isClosed()) m.kick();
        }
    }

    /** The number of waits in progress (tests, diagnostics). */
    @AnyThread
    public static int waiters() {
        return WAITERS.get();
    }
}
