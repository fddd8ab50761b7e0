package qmpd.loop;

import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.nativeio.LinuxSyscalls;

/**
 * One platform thread that runs one AioContext until stopped: the lifecycle the main loop and
 * every IOThread share (QEMU's iothread_run and the main loop's run/stop).
 *
 * <p>{@link #start} → {@link #stop}. Stopping runs every BH queued before it, then drains what those
 * BHs schedule, so nothing queued before the stop is lost; then the thread closes the context and
 * exits, and is joined. The context has no home thread until started.
 */
final class LoopThread {
    private static final int NEW = 0, RUNNING = 1, STOPPED = 2;

    private final String what;
    private final String stopBhName;
    private final AioContext context;
    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final CountDownLatch started = new CountDownLatch(1);
    /** Written by the loop thread before {@code started} opens; read after. */
    private volatile int nativeThreadId = -1;
    /** Cleared by the stop BH, in the loop thread. */
    private volatile boolean running = true;
    /** What closing the context reported (leaked BHs), rethrown by stop(). */
    private volatile RuntimeException closeFailure;

    /**
     * @param what names the loop in error messages
     * @param threadName the Java thread's name
     * @param stopBhName the debug name of the BH that ends the loop
     */
    LoopThread(String what, String threadName, String stopBhName, AioContext context) {
        this.what = Objects.requireNonNull(what, "what");
        this.stopBhName = Objects.requireNonNull(stopBhName, "stopBhName");
        this.context = Objects.requireNonNull(context, "context");
        this.thread = Thread.ofPlatform().name(threadName).unstarted(this::run);
    }

    @AnyThread
    AioContext context() {
        return context;
    }

    @AnyThread
    Thread thread() {
        return thread;
    }

    @AnyThread
    int nativeThreadId() {
        return nativeThreadId;
    }

    @AnyThread
    boolean isRunning() {
        return state.get() == RUNNING;
    }

    /** Starts the thread and returns once it runs its loop (its native id is then known). */
    @AnyThread
    void start() {
        if (!state.compareAndSet(NEW, RUNNING)) throw new IllegalStateException(what + " already started");
        thread.start();
        awaitUninterruptibly(started);
    }

    private void run() {
        nativeThreadId = LinuxSyscalls.gettid();
        context.poll(false);   // binds this thread as the context's home before start() returns
        started.countDown();
        while (running) {
            context.poll(true);
        }
        while (context.poll(false)) {
            // QEMU runs what the last BHs scheduled too: nothing queued before stop is lost
        }
        try {
            context.close();
        } catch (RuntimeException e) {
            closeFailure = e;
        }
    }

    /**
     * Stops the loop after the BHs queued so far, joins the thread and closes the context.
     * Idempotent; not from the loop thread itself, nor from a thread holding the context (the loop
     * could never take its lock to run the stop BH, so join() would hang).
     *
     * @throws IllegalStateException if the context closed with reusable BHs not deleted (by name)
     */
    @AnyThread
    void stop() {
        if (Thread.currentThread() == thread) throw new IllegalStateException(what + " stopping itself");
        if (context.acquiredLevels() > 0) {
            throw new IllegalStateException(what + " stopped while its context is acquired by the caller");
        }
        int prev = state.getAndSet(STOPPED);
        if (prev == NEW) {
            context.close();
            return;
        }
        if (prev == RUNNING) context.runOnce(stopBhName, () -> running = false);
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

    private static void awaitUninterruptibly(CountDownLatch latch) {
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
