package qmpd.loop;

import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import qmpd.aio.AioContext;
import qmpd.aio.PollParams;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.nativeio.LinuxSyscalls;

/**
 * A platform thread named {@code iothread-<id>} running its own AioContext (QEMU iothread.c,
 * {@code --object iothread,id=...}). Block nodes and NBD connections bound to it do their I/O here.
 *
 * <p>Lifecycle: {@link #create} → {@link #start} → {@link #stop}. Stopping runs every BH queued
 * before it, then drains what those BHs schedule, as QEMU's iothread_run() does; then the thread
 * closes the context and exits, and is joined. Its context has no home thread until started: set
 * it up before start() by acquiring it.
 */
public final class IOThread {
    private static final int NEW = 0, RUNNING = 1, STOPPED = 2;

    private final String id;
    private final AioContext context;
    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final CountDownLatch started = new CountDownLatch(1);
    /** Written by the IOThread before {@code started} opens; read after. */
    private volatile int nativeThreadId = -1;
    /** Home thread only: cleared by the stop BH. */
    private volatile boolean running = true;
    /** What closing the context reported (leaked BHs), rethrown by stop(). */
    private volatile RuntimeException closeFailure;

    private IOThread(String id, PollParams params) {
        this.id = Objects.requireNonNull(id, "id");
        this.context = AioContext.create(id, Objects.requireNonNull(params, "params"));
        this.thread = Thread.ofPlatform().name("iothread-" + id).unstarted(this::run);
    }

    /** A new, not yet started IOThread. */
    @AnyThread
    public static IOThread create(String id, PollParams params) {
        return new IOThread(id, params);
    }

    @AnyThread
    public String id() {
        return id;
    }

    @AnyThread
    public AioContext context() {
        return context;
    }

    /** The Java thread (named {@code iothread-<id>}). */
    @AnyThread
    public Thread thread() {
        return thread;
    }

    /** Starts the thread and returns once it runs its loop (its native id is then known). */
    @AnyThread
    public IOThread start() {
        if (!state.compareAndSet(NEW, RUNNING)) throw new IllegalStateException("IOThread '" + id + "' already started");
        thread.start();
        awaitUninterruptibly(started);
        return this;
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
     * Idempotent; not from the IOThread itself.
     *
     * @throws IllegalStateException if the context closed with reusable BHs not deleted (by name)
     */
    @AnyThread
    public void stop() {
        if (Thread.currentThread() == thread) throw new IllegalStateException("IOThread '" + id + "' stopping itself");
        int prev = state.getAndSet(STOPPED);
        if (prev == NEW) {
            context.close();
            return;
        }
        if (prev == RUNNING) context.runOnce("iothread-stop", () -> running = false);
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

    /** The kernel thread id (gettid), what query-iothreads reports as {@code thread-id}; -1 before start. */
    @AnyThread
    public int nativeThreadId() {
        return nativeThreadId;
    }

    @AnyThread
    public boolean isRunning() {
        return state.get() == RUNNING;
    }

    @AnyThread
    public PollParams pollParams() {
        return context.pollParams();
    }

    /** Takes effect at the loop's next iteration (QEMU qom-set on poll-max-ns and friends). */
    @AnyThread
    public void setPollParams(PollParams params) {
        context.setPollParams(params);
    }

    @Override
    public String toString() {
        return "IOThread[" + id + "]";
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
