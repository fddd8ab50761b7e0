package qmpd.loop;

import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;

/**
 * The main loop: the main AioContext run by a thread named {@code main-loop} (QEMU's
 * main_loop_wait). It holds the {@link GlobalLock} while it dispatches callbacks and drops it while
 * it sleeps, so {@code context().runOnce("qmp:" + command, task)} runs the task under the lock.
 * Stopping runs the BHs queued before it, drains what they schedule, then closes the context.
 */
public final class MainLoop {
    private final LoopThread loop =
            new LoopThread("main loop", "main-loop", "main-loop-stop", AioContext.createMain("main-loop"));

    @AnyThread
    public AioContext context() {
        return loop.context();
    }

    @AnyThread
    public Thread thread() {
        return loop.thread();
    }

    /** Starts the {@code main-loop} thread and returns once it polls. */
    @AnyThread
    public MainLoop start() {
        loop.start();
        return this;
    }

    /**
     * Stops after the BHs queued so far, joins the thread, closes the context. Idempotent; not
     * from the main loop itself, nor from a thread holding the GlobalLock or the main context (the
     * loop needs both to run the stop BH).
     *
     * @throws IllegalStateException if the context closed with reusable BHs not deleted
     */
    @AnyThread
    public void stop() {
        if (GlobalLock.isHeldByCurrentThread() && Thread.currentThread() != loop.thread()) {
            throw new IllegalStateException("main loop stopped by a thread holding the GlobalLock");
        }
        loop.stop();
    }
}
