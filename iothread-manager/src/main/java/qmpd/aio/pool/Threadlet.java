package qmpd.aio.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.annotation.WorkerThread;

/**
 * One unit of blocking work handed to a {@link ThreadPool} (QEMU's {@code ThreadPoolElement}).
 *
 * <p>Its life is one atomic state, so that every race has exactly one winner (the scheme of
 * Vert.x's {@code WorkerTask}):
 * <pre>
 *   QUEUED --worker dequeues--> RUNNING --work returns or throws--> DONE
 *      \
 *       `--cancel()--> CANCELLED
 * </pre>
 * A worker may start the threadlet only by winning QUEUED→RUNNING, and {@link #cancel()} succeeds
 * only by winning QUEUED→CANCELLED. So a cancel that loses to the start returns false and the work
 * runs to completion, and a cancel that wins means the work never ran. RUNNING and DONE never go
 * back: cancel-vs-completion always loses for the cancel, and the result is delivered.
 *
 * <p>The stage from {@link #result()} is completed by the pool's completion BottomHalf, so it
 * completes in the submitting AioContext's home thread, never on a worker; that includes the
 * CancellationException of a cancelled threadlet.
 */
public final class Threadlet<T> {
    /** Where a threadlet is in its life; see the class comment for the transitions. */
    public enum State { QUEUED, RUNNING, DONE, CANCELLED }

    private static final int QUEUED = 0, RUNNING = 1, DONE = 2, CANCELLED = 3;
    private static final VarHandle STATE;
    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Threadlet.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Callable<T> work;
    private final ThreadPool pool;
    final long submitNanos = System.nanoTime();
    private final CompletableFuture<T> promise = new CompletableFuture<>();
    private final CompletionStage<T> view = promise.minimalCompletionStage();

    private volatile int state = QUEUED;
    // Written by the worker before the volatile DONE write, read by the completion BH after it
    // reads DONE: the state is the publication point ("write ret before state" in QEMU).
    private T value;
    private Throwable failure;

    Threadlet(String name, Callable<T> work, ThreadPool pool) {
        this.name = name;
        this.work = work;
        this.pool = pool;
    }

    /** The debug name given at submit. */
    @AnyThread
    public String name() {
        return name;
    }

    /**
     * The outcome, completed in the submitting context's home thread: the work's value, its
     * exception, or a CancellationException if {@link #cancel()} won. Stages chained without
     * {@code Async} run there too.
     */
    @AnyThread
    public CompletionStage<T> result() {
        return view;
    }

    /** A snapshot of the state; for tests and debugging, it may change right after. */
    @AnyThread
    public State state() {
        return State.values()[state];
    }

    /**
     * Cancels the threadlet if no worker has started it (QEMU {@code thread_pool_cancel}).
     * Returns true if it was removed from the queue: the work will never run and the stage
     * completes with a CancellationException (from the completion BottomHalf, like any result).
     * Returns false if a worker already started it or it finished: it runs to completion and its
     * result is delivered. Workers are never interrupted, since an interrupt closes a FileChannel
     * the work may be using.
     */
    @HomeThread
    public boolean cancel() {
        pool.context().assertInHomeThread();
        if (!STATE.compareAndSet(this, QUEUED, CANCELLED)) {
            return false;
        }
        pool.cancelled(this);
        return true;
    }

    /** QUEUED→CANCELLED for the pool's own shutdown; false if a worker got there first. */
    boolean tryCancel() {
        return STATE.compareAndSet(this, QUEUED, CANCELLED);
    }

    /** QUEUED→RUNNING; false means a cancel won and the worker must drop the threadlet. */
    @WorkerThread
    boolean tryStart() {
        return STATE.compareAndSet(this, QUEUED, RUNNING);
    }

    /** Runs the work and publishes the outcome; returns false if it threw. */
    @WorkerThread
    boolean run() {
        try {
            value = work.call();
        } catch (Throwable t) {
            failure = t;
        }
        state = DONE;
        return failure == null;
    }

    /** Completes the stage with the published outcome; runs in the home thread. */
    @HomeThread
    void deliver() {
        if (state == CANCELLED) {
            promise.completeExceptionally(new CancellationException("Threadlet '" + name + "' cancelled"));
        } else if (failure != null) {
            promise.completeExceptionally(failure);
        } else {
            promise.complete(value);
        }
    }

    @Override
    public String toString() {
        return "Threadlet[" + name + ", " + state() + "]";
    }
}
