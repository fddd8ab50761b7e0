package qmpd.aio.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.annotation.WorkerThread;

/**
 * Blocking work on behalf of one AioContext: threadlets (QEMU util/thread-pool.c).
 *
 * <p>Work runs on platform threads named {@code worker-<ctx>-<n>}. Between {@code min} and
 * {@code max} of them exist: a worker is started when a submit finds more queued threadlets than
 * idle workers, and a worker idle for the idle timeout (QEMU: 10 s) exits while more than
 * {@code min} are alive. Results come back by ONE reusable BottomHalf in the context, which runs
 * every finished threadlet's completion in a batch, so a stage from {@link #submit} completes in
 * the context's home thread and never on a worker.
 *
 * <p>Why platform threads and stages, not virtual threads: the work here is blocking file I/O,
 * and on JDK 25 a virtual thread blocked in a buffered FileChannel read or write holds its
 * carrier with no compensation, so a few slow reads starve every other virtual thread in the
 * process. A bounded pool of platform workers is QEMU's aio=threads, and a CompletionStage
 * completed by the context's BottomHalf is the coroutine hop of "run in worker, resume in the
 * home thread" without a second stack: see {@link #runInWorker}.
 *
 * <p>Workers are never interrupted: an interrupt closes any FileChannel the work is using, for
 * every user of that channel. Cancel removes queued work only; started work runs to completion.
 *
 * <p>One pool per context is created on first use by {@link #of}; private pools with their own
 * limits are built with the constructors. Closing the context closes its pool.
 */
public final class ThreadPool implements AutoCloseable {
    /** QEMU's thread-pool-min default. */
    public static final int DEFAULT_MIN_THREADS = 0;
    /** QEMU's thread-pool-max default. */
    public static final int DEFAULT_MAX_THREADS = 64;
    /** QEMU's worker idle timeout: a worker idle this long exits while above min. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);

    // Immutable after construction.
    private final AioContext ctx;
    private final BottomHalf completionBh;
    private final long idleTimeoutNanos;

    // Any thread: workers add, the completion BH (home thread) removes.
    private final ConcurrentLinkedQueue<Threadlet<?>> completed = new ConcurrentLinkedQueue<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition requestCond = lock.newCondition();     // @protectedby lock: work queued, limits changed, stopping
    private final Condition workerStopped = lock.newCondition();   // @protectedby lock: a worker exited
    private final ArrayDeque<Threadlet<?>> queue = new ArrayDeque<>(); // @protectedby lock
    private int minThreads;      // @protectedby lock
    private int maxThreads;      // @protectedby lock
    private int curThreads;      // @protectedby lock
    private int idleThreads;     // @protectedby lock
    private int peakThreads;     // @protectedby lock
    private int nextWorkerId;    // @protectedby lock
    private boolean stopping;    // @protectedby lock

    // Counters for meters: any thread writes, stats() reads.
    private final LongAdder submitted = new LongAdder();
    private final LongAdder completedCount = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder cancelledCount = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();

    /** The context's shared pool, created on first use with QEMU's default limits. */
    @AnyThread
    public static ThreadPool of(AioContext ctx) {
        return ctx.service(ThreadPool.class, ThreadPool::new);
    }

    /** A pool for {@code ctx} with QEMU's defaults (min 0, max 64, idle timeout 10 s). */
    public ThreadPool(AioContext ctx) {
        this(ctx, DEFAULT_MIN_THREADS, DEFAULT_MAX_THREADS, DEFAULT_IDLE_TIMEOUT);
    }

    /** A private pool with its own limits and QEMU's idle timeout. */
    public ThreadPool(AioContext ctx, int minThreads, int maxThreads) {
        this(ctx, minThreads, maxThreads, DEFAULT_IDLE_TIMEOUT);
    }

    /**
     * A private pool. {@code ctx} is where completions run; {@code idleTimeout} is how long a
     * worker above {@code minThreads} waits for work before it exits. The caller owns the pool
     * and closes it (the shared pool of {@link #of} is closed by its context).
     */
    public ThreadPool(AioContext ctx, int minThreads, int maxThreads, Duration idleTimeout) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.idleTimeoutNanos = Objects.requireNonNull(idleTimeout, "idleTimeout").toNanos();
        if (idleTimeoutNanos <= 0) {
            throw new IllegalArgumentException("idle timeout must be positive: " + idleTimeout);
        }
        this.completionBh = ctx.bhNew("thread-pool-completion", this::completionBh);
        setLimits(minThreads, maxThreads);
    }

    /** The context whose home thread runs the completions. */
    @AnyThread
    public AioContext context() {
        return ctx;
    }

    /**
     * Queues {@code work} for a worker and returns its handle. The handle's stage completes in
     * this pool's context; the work itself runs on a worker, where {@code AioContext.current()}
     * is null, and must touch nothing but what it captured.
     *
     * @throws RejectedExecutionException if the pool is closed
     */
    @HomeThread
    public <T> Threadlet<T> submit(String name, Callable<T> work) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(work, "work");
        ctx.assertInHomeThread();   // a completion needs one known home; QEMU asserts the same
        Threadlet<T> t = new Threadlet<>(name, work, this);
        lock.lock();
        try {
            if (stopping) {
                throw new RejectedExecutionException("Thread pool of '" + ctx.name() + "' is closed");
            }
            queue.addLast(t);
            submitted.increment();
            // More queued threadlets than waiting workers: a woken worker is still counted idle
            // until it takes the lock, so two quick submits get two workers, not one.
            if (queue.size() > idleThreads && curThreads < maxThreads) {
                spawnWorker();
            }
            requestCond.signal();
        } finally {
            lock.unlock();
        }
        return t;
    }

    /**
     * The coroutine hop of "run in worker and come back" (Stefan Hajnoczi's
     * {@code v9fs_co_run_in_worker}): {@code work} runs on a worker of the caller's context,
     * and whatever the caller chains on the returned stage runs back in that context.
     * <pre>{@code
     * ThreadPool.runInWorker("stat", () -> Files.size(path))   // @WorkerThread: blocking stat()
     *     .thenApply(size -> size - reserved);                   // back in the home thread
     * }</pre>
     * Chaining non-async is safe: the completion BottomHalf cannot run before the caller returns
     * to its loop, which is the guarantee QEMU gets by yielding before the worker may enter.
     *
     * @throws IllegalStateException if the caller is not the home thread of an AioContext
     */
    @HomeThread
    public static <T> CompletionStage<T> runInWorker(String name, Callable<T> work) {
        AioContext ctx = AioContext.current();
        if (ctx == null) {
            throw new IllegalStateException("runInWorker '" + name + "' called outside an AioContext");
        }
        return of(ctx).submit(name, work).result();
    }

    /**
     * Changes thread-pool-min and thread-pool-max at run time (QEMU
     * {@code thread_pool_update_params}): workers are started up to the new min at once, and
     * workers above the new max exit as soon as they finish their current threadlet.
     */
    @AnyThread
    public void setLimits(int min, int max) {
        if (min < 0 || max < 1 || min > max) {
            throw new IllegalArgumentException("thread pool limits need 0 <= min <= max and max >= 1, got min "
                    + min + " max " + max);
        }
        lock.lock();
        try {
            minThreads = min;
            maxThreads = max;
            while (!stopping && curThreads < minThreads) {
                spawnWorker();
            }
            requestCond.signalAll();   // workers re-check the limits: above max, they leave
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot of the counters; takes the pool lock briefly. */
    @AnyThread
    public ThreadPoolStats stats() {
        lock.lock();
        try {
            return new ThreadPoolStats(curThreads, peakThreads, idleThreads, queue.size(), minThreads, maxThreads,
                    submitted.sum(), completedCount.sum(), failed.sum(), cancelledCount.sum(), waitNanos.sum());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the pool: queued threadlets are cancelled, started ones finish, and this waits for
     * every worker to exit (QEMU {@code thread_pool_free}). Completions of work that finished
     * meanwhile are delivered here, in the calling home thread. Idempotent.
     */
    @HomeThread
    @Override
    public void close() {
        List<Threadlet<?>> orphans = new ArrayList<>();
        lock.lock();
        try {
            if (stopping) {
                return;
            }
            stopping = true;
            orphans.addAll(queue);
            queue.clear();
            requestCond.signalAll();
            while (curThreads > 0) {
                workerStopped.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
        for (Threadlet<?> t : orphans) {
            // A worker may have dequeued it before we took the lock; then it ran and is in completed.
            if (t.tryCancel()) {
                cancelledCount.increment();
                completed.add(t);
            }
        }
        for (Threadlet<?> t; (t = completed.poll()) != null; ) {
            t.deliver();
        }
        completionBh.delete();
    }

    /** Called by {@link Threadlet#cancel()} after it won QUEUED→CANCELLED. */
    @HomeThread
    void cancelled(Threadlet<?> t) {
        lock.lock();
        try {
            queue.remove(t);   // absent if a worker dequeued it and then lost the start race
        } finally {
            lock.unlock();
        }
        cancelledCount.increment();
        completed.add(t);
        completionBh.schedule();
    }

    // @protectedby lock
    private void spawnWorker() {
        int id = nextWorkerId++;
        curThreads++;
        peakThreads = Math.max(peakThreads, curThreads);
        // Daemon, as QEMU's detached workers: a stuck syscall must not keep the process alive.
        Thread.ofPlatform().name("worker-" + ctx.name() + "-" + id).daemon(true).start(this::workerLoop);
    }

    @WorkerThread
    private void workerLoop() {
        assert AioContext.current() == null : "a worker must have no current AioContext";
        lock.lock();
        try {
            while (!stopping && curThreads <= maxThreads) {
                Threadlet<?> t = queue.pollFirst();
                if (t == null) {
                    if (waitForWork()) {
                        break;
                    }
                    continue;
                }
                lock.unlock();
                try {
                    runOne(t);
                } finally {
                    lock.lock();
                }
            }
        } finally {
            curThreads--;
            workerStopped.signalAll();
            lock.unlock();
        }
    }

    /** Waits for work with the lock held; true if this worker should exit for being idle. */
    @WorkerThread
    private boolean waitForWork() {
        idleThreads++;
        long left;
        try {
            left = requestCond.awaitNanos(idleTimeoutNanos);
        } catch (InterruptedException e) {
            // Nobody here interrupts workers; a stray interrupt is consumed now so that it
            // cannot close a FileChannel inside the next threadlet.
            left = 1;
        } finally {
            idleThreads--;
        }
        return left <= 0 && queue.isEmpty() && curThreads > minThreads;
    }

    @WorkerThread
    private void runOne(Threadlet<?> t) {
        if (!t.tryStart()) {
            return;   // cancel() won the race after we dequeued it; it delivers the cancellation
        }
        waitNanos.add(System.nanoTime() - t.submitNanos);
        if (!t.run()) {
            failed.increment();
        }
        completedCount.increment();
        completed.add(t);
        completionBh.schedule();
    }

    @HomeThread
    private void completionBh() {
        for (Threadlet<?> t; (t = completed.poll()) != null; ) {
            // Re-arm before calling back: the callback may poll() to wait for a sibling
            // threadlet that finished in the same batch (QEMU thread-pool.c does the same).
            completionBh.schedule();
            t.deliver();
            // Safe to disarm even if a worker scheduled us meanwhile: we look at the queue again,
            // and a worker that adds after that look schedules after this cancel.
            completionBh.cancel();
        }
    }
}
