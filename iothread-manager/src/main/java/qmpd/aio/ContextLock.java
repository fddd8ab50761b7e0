package qmpd.aio;

import java.util.concurrent.locks.ReentrantLock;
import qmpd.loop.GlobalLock;

/**
 * The lock of rule 2 (QEMU's old aio_context_acquire), shared by acquirers and the home thread.
 *
 * <p>The home thread holds it while it runs callbacks and drops every level while it sleeps;
 * acquirers' levels are also counted per thread in {@link HeldContexts}, which is what makes
 * release() owner-checked, rule 3 checkable, and lets {@link AioWait} release exactly the levels
 * its caller took. Fair, so a queued acquirer goes first whenever the loop lets go, and the loop
 * lets go often: at the end of every outermost iteration, when it sleeps, when a busy-poll sees a
 * queued acquirer ({@link #hasWaiters}), and between nested iterations ({@link #yieldIfWaited}).
 */
final class ContextLock {
    private final AioContext ctx;
    private final ReentrantLock lock = new ReentrantLock(true);

    ContextLock(AioContext ctx) {
        this.ctx = ctx;
    }

    /** acquire(): rule 3 first, then one more level. */
    void acquire(AioContext own) {
        HeldContexts held = HeldContexts.OF_THREAD.get();
        AioContext other = own != null && own != ctx ? own : held.anyOtherThan(ctx);
        if (other != null && !GlobalLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " holds AioContext '"
                    + other.name() + "' and acquires '" + ctx.name() + "': only the GlobalLock holder may hold several");
        }
        lock.lock();
        held.inc(ctx);
    }

    void release() {
        if (!HeldContexts.OF_THREAD.get().dec(ctx)) {
            throw new IllegalStateException("AioContext '" + ctx.name() + "' released by "
                    + Thread.currentThread().getName() + ", which has not acquired it");
        }
        lock.unlock();
    }

    int acquiredLevels() {
        return HeldContexts.OF_THREAD.get().count(ctx);
    }

    /** Releases every level the caller acquired and returns their number (for AioWait). */
    int releaseAllLevels() {
        HeldContexts held = HeldContexts.OF_THREAD.get();
        int n = held.count(ctx);
        for (int i = 0; i < n; i++) {
            held.dec(ctx);
            lock.unlock();
        }
        return n;
    }

    /** Takes back levels dropped by releaseAllLevels; no rule-3 check, they were held before. */
    void reacquireLevels(int n) {
        HeldContexts held = HeldContexts.OF_THREAD.get();
        for (int i = 0; i < n; i++) {
            lock.lock();
            held.inc(ctx);
        }
    }

    /** The home thread enters an iteration (one more level; nested polls nest). */
    void lockForDispatch() {
        lock.lock();
    }

    void unlockAfterDispatch() {
        lock.unlock();
    }

    /** Drops every level the calling home thread holds, before sleeping; returns their number. */
    int unlockAll() {
        int holds = lock.getHoldCount();
        for (int i = 0; i < holds; i++) lock.unlock();
        return holds;
    }

    void relock(int holds) {
        for (int i = 0; i < holds; i++) lock.lock();
    }

    /** A thread is queued to acquire. */
    boolean hasWaiters() {
        return lock.hasQueuedThreads();
    }

    /** Between nested iterations the lock stays held; let a queued acquirer in first. */
    void yieldIfWaited() {
        if (lock.hasQueuedThreads()) relock(unlockAll());
    }

    boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }
}
