package qmpd.aio.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.annotation.WorkerThread;

/**
 * A fixed pool of workers fed through a request array whose ownership moves by flipping bits,
 * with no lock on the submit or the completion path (the "lockless multithreads model" of QEMU's
 * multi-threaded migration, seed 004: Paolo Bonzini's single request array and the "flip"
 * bitmaps of Xiao Guangrong).
 *
 * <p>Layout: {@code threads * ringSize} request slots in one array. Worker {@code w} owns the
 * slots {@code [w * ringSize, (w + 1) * ringSize)}, so a request's worker is its index divided
 * by the ring size and nothing else maps requests to threads.
 * <pre>
 *   slot:      0 1 2 3 | 4 5 6 7 | ...          ringSize = 4
 *   worker:       0    |    1    | ...
 *   fill:      flipped by the submitter after it wrote the slot's request
 *   done:      flipped by the worker after it wrote the slot's result
 *   fill == done: the submitter owns the slot;  fill != done: the worker owns it
 * </pre>
 * The two bitmaps cannot tell a free slot from one whose result is not yet collected (the seed
 * says so), so the submitter keeps a third, private bitmap {@code inFlight}: a slot is free when
 * its bit is clear, and it holds an uncollected result when its bit is set and fill == done.
 *
 * <p>Threads: one submitter, the home thread of the context; it submits and collects every
 * completion (single consumer), in one reusable BottomHalf. Submit picks the next free slot
 * round-robin across workers, starting at {@code currentThread}'s ring and advancing it to the
 * ring after the chosen slot, so workers take requests in turn.
 *
 * <p>When every slot is in flight, {@link #trySubmit} returns null and {@link #submit} throws
 * RejectedExecutionException: the caller is the event loop, which must not block, and slots
 * free only when its own completion BottomHalf runs, so the caller's answer to "full" is to
 * return to its loop (or {@code poll()}) and submit again later.
 *
 * <p>Memory ordering (the Java forms of the seed's barriers):
 * <ul>
 * <li>The submitter writes the slot's fields with plain stores, then flips fill with a volatile
 *     {@code getAndBitwiseXor}: its release half is the seed's smp_wmb (fields before flip). The
 *     worker reads fill with {@code getVolatile}: its acquire half is the smp_rmb before it reads
 *     the fields.</li>
 * <li>The worker writes the result with plain stores, then flips done with a volatile
 *     {@code getAndBitwiseXor} (smp_wmb); the submitter reads done with {@code getVolatile}
 *     (smp_rmb) before it reads the result.</li>
 * <li>Both flips are full volatile, not just release, because each is the store half of a
 *     store-then-load handshake that must not lose a wake-up (below), and only sequentially
 *     consistent accesses order a store before a later load in the Java memory model.</li>
 * </ul>
 *
 * <p>Wake-ups. A worker with nothing to do parks. Worker: store {@code sleeping = true}, then
 * look at fill again, then park. Submitter: flip fill, then look at {@code sleeping} and, if it
 * wins true→false, unpark. All four accesses are volatile, so in their total order either the
 * worker's second look sees the flip, or the submitter sees {@code sleeping} and unparks; an
 * unpark before the park leaves a permit, so the park returns at once. The same handshake runs
 * the other way for completions with the {@code doorbell} flag: worker flips done, then sets the
 * doorbell and schedules the BottomHalf only if it was clear; the BottomHalf clears the doorbell
 * before each scan of done.
 *
 * <p>Slots of neighbouring workers share cache lines (and bitmap words when ringSize < 64);
 * that false sharing is accepted for a pool of a few dozen slots.
 */
public final class LocklessRequestPool implements AutoCloseable {
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);

    private final AioContext ctx;
    private final BottomHalf completionBh;
    private final int ringSize;
    private final int capacity;
    private final Worker[] workers;

    // Written only by the submitter, read by workers (volatile/atomic through BITS).
    private final long[] fill;
    // Flipped by workers (atomically: workers share words), read by the submitter.
    private final long[] done;
    // Submitter-private: slots submitted and not yet collected.
    private final long[] inFlight;

    // Request fields. work: written by the submitter before the fill flip, read by the worker
    // after it. result/failure: written by the worker before the done flip, read by the
    // submitter after it. promise: submitter-private.
    private final Callable<?>[] work;
    private final Object[] result;
    private final Throwable[] failure;
    private final CompletableFuture<?>[] promise;

    private final AtomicBoolean doorbell = new AtomicBoolean();
    private volatile boolean stopping;

    // Submitter-private.
    private int currentThread;
    private int inFlightCount;
    private long submitted;
    private long completed;
    private long rejected;

    /**
     * Starts {@code threads} platform workers named {@code worker-<ctx>-<name>-<n>}, each with
     * {@code ringSize} request slots; completions run in {@code ctx}'s home thread.
     */
    public LocklessRequestPool(AioContext ctx, String name, int threads, int ringSize) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        Objects.requireNonNull(name, "name");
        if (threads < 1 || ringSize < 1 || (long) threads * ringSize > 1 << 20) {
            throw new IllegalArgumentException("bad lockless pool size: " + threads + " threads of " + ringSize);
        }
        this.ringSize = ringSize;
        this.capacity = threads * ringSize;
        int words = (capacity + 63) >>> 6;
        this.fill = new long[words];
        this.done = new long[words];
        this.inFlight = new long[words];
        this.work = new Callable<?>[capacity];
        this.result = new Object[capacity];
        this.failure = new Throwable[capacity];
        this.promise = new CompletableFuture<?>[capacity];
        this.completionBh = ctx.bhNew("lockless-pool-completion", this::completionBh);
        this.workers = new Worker[threads];
        for (int w = 0; w < threads; w++) {
            workers[w] = new Worker(w);
        }
        for (Worker wk : workers) {
            wk.thread = Thread.ofPlatform().name("worker-" + ctx.name() + "-" + name + "-" + wk.index)
                    .daemon(true).unstarted(wk::run);
            wk.thread.start();
        }
    }

    /** Request slots in all: threads times ring size. */
    @AnyThread
    public int capacity() {
        return capacity;
    }

    /** Slots submitted and not yet collected. */
    @HomeThread
    public int inFlight() {
        return inFlightCount;
    }

    /** A snapshot of the counters. */
    @HomeThread
    public Stats stats() {
        return new Stats(workers.length, capacity, inFlightCount, submitted, completed, rejected);
    }

    /**
     * Counters of a {@link LocklessRequestPool}.
     *
     * @param threads   workers (fixed)
     * @param capacity  request slots (threads times ring size)
     * @param inFlight  slots submitted and not yet collected
     * @param submitted requests accepted
     * @param completed requests whose completion was delivered
     * @param rejected  submits refused because every slot was in flight
     */
    public record Stats(int threads, int capacity, int inFlight, long submitted, long completed, long rejected) {
    }

    /**
     * Like {@link #trySubmit}, but throws when every slot is in flight.
     *
     * @throws RejectedExecutionException if every slot is in flight or the pool is closed
     */
    @HomeThread
    public <T> CompletionStage<T> submit(Callable<T> task) {
        CompletionStage<T> s = trySubmit(task);
        if (s == null) {
            throw new RejectedExecutionException("Lockless pool of '" + ctx.name() + "' is full ("
                    + capacity + " requests in flight)");
        }
        return s;
    }

    /**
     * Hands {@code task} to the next worker with a free slot, or returns null if every slot is
     * in flight (see the class comment for why full does not block). The stage completes in
     * this context's home thread.
     *
     * @throws RejectedExecutionException if the pool is closed
     */
    @HomeThread
    public <T> CompletionStage<T> trySubmit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        ctx.assertInHomeThread();
        if (stopping) {
            throw new RejectedExecutionException("Lockless pool of '" + ctx.name() + "' is closed");
        }
        int idx = findFree();
        if (idx < 0) {
            rejected++;
            return null;
        }
        CompletableFuture<T> p = new CompletableFuture<>();
        work[idx] = task;
        promise[idx] = p;
        inFlight[idx >>> 6] |= 1L << idx;
        inFlightCount++;
        submitted++;
        // smp_wmb: the volatile flip releases work[idx] to the worker that acquires fill.
        BITS.getAndBitwiseXor(fill, idx >>> 6, 1L << idx);
        int w = idx / ringSize;
        currentThread = w + 1 == workers.length ? 0 : w + 1;
        workers[w].wake();
        return p;
    }

    /** First free slot at or after currentThread's ring, wrapping around; -1 if none. */
    @HomeThread
    private int findFree() {
        int start = currentThread * ringSize;
        int idx = nextClear(start, capacity);
        return idx >= 0 ? idx : nextClear(0, start);
    }

    private int nextClear(int from, int to) {
        for (int i = from; i < to; ) {
            int word = i >>> 6;
            long free = ~inFlight[word] & (-1L << i);   // shift counts are mod 64
            if (free != 0) {
                int idx = (word << 6) + Long.numberOfTrailingZeros(free);
                return idx < to ? idx : -1;
            }
            i = (word + 1) << 6;
        }
        return -1;
    }

    /**
     * Collects finished requests and completes their stages (single consumer). Rescans from the
     * start after each callback, as QEMU's completion BH does after it re-armed itself.
     */
    @HomeThread
    private void completionBh() {
        int idx;
        do {
            // Clear before the scan: a worker flipping done after our read of its word finds the
            // doorbell clear and schedules us again (the store-load handshake of the class doc).
            doorbell.set(false);
            idx = nextReady();
            if (idx >= 0) {
                // Re-arm before calling back: the callback may poll() to wait for a sibling
                // request that finished in the same batch (QEMU thread-pool.c does the same).
                completionBh.schedule();
                deliver(idx);
                completionBh.cancel();   // safe: we scan again, with the doorbell cleared first
            }
        } while (idx >= 0);
    }

    /** The lowest in-flight slot whose fill and done bits agree, i.e. a result to collect. */
    @HomeThread
    private int nextReady() {
        for (int word = 0; word < inFlight.length; word++) {
            long mine = inFlight[word];
            if (mine == 0) {
                continue;
            }
            // smp_rmb: getVolatile of done acquires the worker's result stores.
            long owned = (long) BITS.getOpaque(fill, word) ^ (long) BITS.getVolatile(done, word);
            long ready = mine & ~owned;
            if (ready != 0) {
                return (word << 6) + Long.numberOfTrailingZeros(ready);
            }
        }
        return -1;
    }

    @HomeThread
    @SuppressWarnings("unchecked")
    private void deliver(int idx) {
        CompletableFuture<Object> p = (CompletableFuture<Object>) promise[idx];
        Object value = result[idx];
        Throwable t = failure[idx];
        promise[idx] = null;
        result[idx] = null;
        failure[idx] = null;
        inFlight[idx >>> 6] &= ~(1L << idx);
        inFlightCount--;
        completed++;
        if (t != null) {
            p.completeExceptionally(t);
        } else {
            p.complete(value);
        }
    }

    /**
     * Stops the workers after they finished every request already submitted, waits for them,
     * and delivers the last completions here. Idempotent.
     */
    @HomeThread
    @Override
    public void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        for (Worker wk : workers) {
            LockSupport.unpark(wk.thread);
        }
        for (Worker wk : workers) {
            boolean interrupted = false;
            while (wk.thread.isAlive()) {
                try {
                    wk.thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        completionBh();
        completionBh.delete();
    }

    /** One worker and its ring of slots. */
    private final class Worker {
        final int index;
        final int first;
        final int end;
        final AtomicBoolean sleeping = new AtomicBoolean();
        Thread thread;

        Worker(int index) {
            this.index = index;
            this.first = index * ringSize;
            this.end = first + ringSize;
        }

        /** Submitter side of the wake-up handshake; called after the fill flip. */
        @HomeThread
        void wake() {
            if (sleeping.get() && sleeping.compareAndSet(true, false)) {
                LockSupport.unpark(thread);
            }
        }

        @WorkerThread
        void run() {
            assert AioContext.current() == null : "a worker must have no current AioContext";
            for (;;) {
                int idx = nextOwned();
                if (idx >= 0) {
                    handle(idx);
                    continue;
                }
                if (stopping) {
                    return;   // every submitted request of this ring has been handled
                }
                sleeping.set(true);
                if (nextOwned() < 0 && !stopping) {
                    LockSupport.park(this);
                }
                sleeping.set(false);
            }
        }

        /** A slot of this ring whose fill and done bits differ: a request to handle. */
        @WorkerThread
        private int nextOwned() {
            for (int i = first; i < end; ) {
                int word = i >>> 6;
                // smp_rmb: getVolatile of fill acquires the submitter's request stores.
                long owned = (long) BITS.getVolatile(fill, word) ^ (long) BITS.getVolatile(done, word);
                owned &= -1L << i;
                int wordEnd = (word + 1) << 6;
                if (end < wordEnd) {
                    owned &= (1L << end) - 1;   // end is not a multiple of 64 here
                }
                if (owned != 0) {
                    return (word << 6) + Long.numberOfTrailingZeros(owned);
                }
                i = wordEnd;
            }
            return -1;
        }

        @WorkerThread
        private void handle(int idx) {
            Callable<?> c = work[idx];
            work[idx] = null;
            try {
                result[idx] = c.call();
            } catch (Throwable t) {
                failure[idx] = t;
            }
            // smp_wmb: the volatile flip releases result/failure to the submitter; full volatile
            // because it is also the store half of the doorbell handshake.
            BITS.getAndBitwiseXor(done, idx >>> 6, 1L << idx);
            if (!doorbell.getAndSet(true)) {
                completionBh.schedule();
            }
        }
    }
}
