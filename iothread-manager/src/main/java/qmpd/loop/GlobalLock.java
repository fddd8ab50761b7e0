package qmpd.loop;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import qmpd.aio.annotation.AnyThread;

/**
 * The process-wide lock guarding global state: the block graph, the object registries, QMP
 * commands (QEMU's BQL, bql_lock() in system/cpus.c). The main loop holds it while it dispatches
 * callbacks and drops it while it sleeps, so a command posted with
 * {@code mainLoop.context().runOnce("qmp:" + name, task)} runs with it held.
 *
 * <p>Not reentrant: locking it twice in one thread is a bug and throws. Lock order: the
 * GlobalLock before any AioContext, never the reverse; IOThread callbacks never take it.
 */
public final class GlobalLock {
    /** Fair, so a thread waiting for the lock gets it when the main loop goes to sleep. */
    private static final ReentrantLock LOCK = new ReentrantLock(true);

    private GlobalLock() {}

    /** Takes the lock, waiting as long as needed. */
    @AnyThread
    public static void lock() {
        if (LOCK.isHeldByCurrentThread()) throw new IllegalStateException("GlobalLock is not reentrant");
        LOCK.lock();
    }

    /** Takes the lock if it becomes free within the timeout. */
    @AnyThread
    public static boolean tryLock(long timeout, TimeUnit unit) throws InterruptedException {
        if (LOCK.isHeldByCurrentThread()) throw new IllegalStateException("GlobalLock is not reentrant");
        return LOCK.tryLock(timeout, unit);
    }

    /** Releases the lock; only its holder may. */
    public static void unlock() {
        assertHeld();
        LOCK.unlock();
    }

    /** QEMU's bql_locked(). */
    @AnyThread
    public static boolean isHeldByCurrentThread() {
        return LOCK.isHeldByCurrentThread();
    }

    /** The runtime check behind {@code @GlobalState} (QEMU's GLOBAL_STATE_CODE()). */
    @AnyThread
    public static void assertHeld() {
        if (!LOCK.isHeldByCurrentThread()) {
            throw new IllegalStateException("GlobalLock not held by " + Thread.currentThread().getName());
        }
    }

    /** Whether some thread holds the lock (diagnostics and tests). */
    @AnyThread
    public static boolean isLocked() {
        return LOCK.isLocked();
    }
}
