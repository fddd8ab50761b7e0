package qmpd.loop;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;

/**
 * The main loop: the main AioContext run by a thread named {@code main-loop} (QEMU's
 * main_loop_wait). It holds the {@link GlobalLock} while it dispatches callbacks and drops it while
 * it sleeps, so {@code context().runOnce("qmp:" + command, task)} runs the task under the lock.
 * Stopping runs the BHs queued before it, drains what they schedule, then closes the context.
 */
public final class MainLoop {
    private static final int NEW = 0, RUNNING = 1, STOPPED = 2;

    private final AioContext context = AioContext.createMain("main-loop");
    private final Thread thread = Thread.ofPlatform().name("main-loop").unstarted(this::run);
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final CountDownLatch started = new CountDownLatch(1);
    /** Home thread only: cleared by the stop BH. */
    private volatile boolean running = true;
    private volatile RuntimeException closeFailure;

    @AnyThread
    public AioContext context() {
        return context;
    }

    @AnyThread
    public Thread thread() {
        return thread;
    }

    /** Starts the {@code main-loop} thread and returns once it polls. */
    @AnyThread
    public MainLoop start() {
        if (!state.compareAndSet(NEW, RUNNING)) throw new IllegalStateException("main loop already started");
        thread.start();
        awaitUninterruptibly(started);
        return this;
    }

    private void run() {
        context.poll(false);   // binds the thread as home
        started.countDown();
        while (running) {
            context.poll(true);
        }
        while (context.poll(false)) {
            // run what the last BHs scheduled
        }
        try {
            context.close();
        } catch (RuntimeException e) {
            closeFailure = e;
        }
    }

    /**
     * Stops after the BHs queued so far, joins the thread, closes the context. Idempotent; not
     * from the main loop itself.
     *
     * @throws IllegalStateException if the context closed with reusable BHs not deleted
     */
    @AnyThread
    public void stop() {
        if (Thread.currentThread() == thread) throw new IllegalStateException("main loop stopping itself");
        int prev = state.getAndSet(STOPPED);
        if (prev == NEW) {
            context.close();
            return;
        }
        if (prev == RUNNING) context.runOnce("main-loop-stop", () -> running = false);
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        RuntimeException f = closeFailure;
        closeFailure = null;
        if (f != null) throw f;
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
