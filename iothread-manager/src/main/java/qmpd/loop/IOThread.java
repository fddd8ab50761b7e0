package qmpd.loop;

import java.util.Objects;
import qmpd.aio.AioContext;
import qmpd.aio.PollParams;
import qmpd.aio.annotation.AnyThread;

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
    private final String id;
    private final LoopThread loop;

    private IOThread(String id, PollParams params) {
        this.id = Objects.requireNonNull(id, "id");
        AioContext context = AioContext.create(id, Objects.requireNonNull(params, "params"));
        this.loop = new LoopThread("IOThread '" + id + "'", "iothread-" + id, "iothread-stop", context);
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
        return loop.context();
    }

    /** The Java thread (named {@code iothread-<id>}). */
    @AnyThread
    public Thread thread() {
        return loop.thread();
    }

    /** Starts the thread and returns once it runs its loop (its native id is then known). */
    @AnyThread
    public IOThread start() {
        loop.start();
        return this;
    }

    /**
     * Stops the loop after the BHs queued so far, joins the thread and closes the context.
     * Idempotent; not from the IOThread itself, nor while the caller holds its context.
     *
     * @throws IllegalStateException if the context closed with reusable BHs not deleted (by name)
     */
    @AnyThread
    public void stop() {
        loop.stop();
    }

    /** The kernel thread id (gettid), what query-iothreads reports as {@code thread-id}; -1 before start. */
    @AnyThread
    public int nativeThreadId() {
        return loop.nativeThreadId();
    }

    @AnyThread
    public boolean isRunning() {
        return loop.isRunning();
    }

    @AnyThread
    public PollParams pollParams() {
        return loop.context().pollParams();
    }

    /** Takes effect at the loop's next iteration (QEMU qom-set on poll-max-ns and friends). */
    @AnyThread
    public void setPollParams(PollParams params) {
        loop.context().setPollParams(params);
    }

    @Override
    public String toString() {
        return "IOThread[" + id + "]";
    }
}
