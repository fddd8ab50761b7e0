package qmpd.aio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.nativeio.LinuxSyscalls;
import qmpd.loop.GlobalLock;

/**
 * An event loop (QEMU's AioContext, include/block/aio.h): bottom halves, timers, fd handlers and
 * event notifiers, dispatched by one home thread through {@link #poll}, over an epoll instance
 * bound with FFM (see {@link LinuxSyscalls} for why not a java.nio Selector or a Netty loop).
 *
 * <h2>Threads</h2>
 * The home thread is the one that polls: the creator for {@link #createForCurrentThread}, else
 * the first thread to call {@link #poll} (an IOThread or the main loop). The four rules of
 * docs/architecture.md apply:
 * <ol>
 * <li>The context's own callbacks use it freely, with no lock ({@code @HomeThread} methods).</li>
 * <li>Any other thread {@link #acquire acquires} it first; acquire/release nest. The home thread
 *     holds the same lock while it runs callbacks and drops every level of it while it sleeps in
 *     epoll_wait, so an acquirer excludes callbacks, and gets in promptly: a busy-polling loop
 *     sees the queued acquirer and goes to sleep, and nested polls yield to it between
 *     iterations.</li>
 * <li>Only a thread holding the GlobalLock may hold two contexts (enforced in acquire).</li>
 * <li>{@link #runOnce} and {@link BottomHalf#schedule} need no lock.</li>
 * </ol>
 *
 * <h2>Wake-ups (QEMU's notify_me protocol)</h2>
 * A producer pushes onto the lock-free BH queue, then writes the wake-up eventfd only if the loop
 * announced in {@code notifyMe} that it is about to sleep, and only if no other producer beat it
 * to it ({@code notified}). The loop announces, then re-checks the queue before sleeping. Both
 * sides use volatile accesses, which the JMM orders totally, so one of them sees the other: no
 * wake-up is lost, and a busy loop pays no syscall per schedule.
 *
 * <h2>Re-entrancy</h2>
 * {@link #poll} may be called from inside any callback (QEMU's waits do). Each nesting level has
 * its own epoll_wait buffer and its own copy of the ready handlers, taken before any callback runs;
 * removed handlers are marked and skipped. BHs are processed up to a per-level end marker, so a
 * nested level runs the BHs its caller had not reached yet (QEMU's BH slices) and BHs scheduled
 * during an iteration run in the next one.
 */
public final class AioContext implements Executor, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AioContext.class);
    /** The context whose home thread is the current thread. */
    private static final ThreadLocal<AioContext> CURRENT = new ThreadLocal<>();
    /** QEMU starts a growing window at 4 µs (adjust_polling_time). */
    private static final long POLL_WINDOW_START_NS = 4000;

    private static final VarHandle NOTIFIED;
    private static final VarHandle HOME;

    static {
        try {
            var lookup = MethodHandles.lookup();
            NOTIFIED = lookup.findVarHandle(AioContext.class, "notified", boolean.class);
            HOME = lookup.findVarHandle(AioContext.class, "home", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    /** The main loop's context: dispatches with the GlobalLock held. */
    private final boolean main;
    /** Bound once (CAS), read from any thread. */
    private volatile Thread home;
    /** The context lock of rule 2. */
    private final ContextLock lock = new ContextLock(this);
    private final BhQueue bhQueue = new BhQueue();
    /** Reusable BHs not yet deleted, for the leak check in close(); any thread. */
    private final Set<BottomHalf> liveBhs = ConcurrentHashMap.newKeySet();
    /** Home thread or acquirer, like every field down to {@code pollNs}. */
    private final TimerHeap timers = new TimerHeap();
    private final FdTable fds = new FdTable();
    private final EventNotifier wake;
    private EndMarker[] markers = new EndMarker[0];
    /** Current poll() nesting depth. */
    private int depth;
    /** The params the loop runs with, and its current busy-poll window. */
    private PollParams appliedParams;
    private long pollNs;
    /** Time the last waitForEvents() slept; read by its caller before any callback runs. */
    private long lastBlockedNs;

    /** 1 while the home thread is about to sleep or sleeping in epoll_wait; written by it only. */
    private volatile int notifyMe;
    /** Set by wake-ups, cleared by the loop once it is awake (QEMU's ctx->notified). */
    @SuppressWarnings("unused")
    private volatile boolean notified;
    /** Set from any thread, picked up at the next iteration. */
    private volatile PollParams params;
    private volatile boolean closed;
    private volatile Consumer<Throwable> exceptionHandler;
    /** Written by the home thread only, read by stats() from any thread. */
    private final LoopCounters counters = new LoopCounters();
    /** Creation order; guarded by itself. */
    private final Map<Class<?>, Object> services = new LinkedHashMap<>();

    /** A per-level marker closing the batch of BHs that level processes. */
    private static final class EndMarker extends BhNode {
        boolean consumed;
    }

    private AioContext(String name, boolean main, PollParams params) {
        this.name = Objects.requireNonNull(name, "name");
        this.main = main;
        this.params = Objects.requireNonNull(params, "params");
        this.appliedParams = params;
        this.wake = EventNotifier.create();
        fds.install(new FdHandler(this, wake.fd(), wake::testAndClear, null, null, true, true));
    }

    /** A context whose home thread will be the first thread that polls it; no busy polling. */
    @AnyThread
    public static AioContext create(String name) {
        return new AioContext(name, false, PollParams.NO_POLLING);
    }

    /** A context whose home thread will be the first thread that polls it. */
    @AnyThread
    public static AioContext create(String name, PollParams params) {
        return new AioContext(name, false, params);
    }

    /** A context whose home thread is the caller (tests drive the loop themselves). */
    @AnyThread
    public static AioContext createForCurrentThread(String name) {
        AioContext ctx = new AioContext(name, false, PollParams.NO_POLLING);
        ctx.bindHome(Thread.currentThread());
        return ctx;
    }

    /**
     * The main loop's context (for {@code qmpd.loop.MainLoop}): its outermost poll() dispatches
     * with the GlobalLock held and drops it while sleeping; nested polls keep it, as QEMU's
     * aio_poll() keeps the BQL. {@link AioWait} polls it and {@link AioWait#kick} wakes it.
     */
    @AnyThread
    public static AioContext createMain(String name) {
        AioContext ctx = new AioContext(name, true, PollParams.NO_POLLING);
        AioWait.setMainContext(ctx);
        return ctx;
    }

    /** The context whose home thread is the caller, or null (workers, Vert.x loops: STYLE trap 7). */
    @AnyThread
    public static AioContext current() {
        return CURRENT.get();
    }

    /** Whether the caller is the home thread of some context (the {@code @WorkerThread} check negates it). */
    @AnyThread
    public static boolean inAnyHomeThread() {
        return CURRENT.get() != null;
    }

    @AnyThread
    public String name() {
        return name;
    }

    /** Whether this is the main loop's context. */
    @AnyThread
    public boolean isMain() {
        return main;
    }

    /** Whether the caller is the home thread. */
    @AnyThread
    public boolean inHomeThread() {
        return home == Thread.currentThread();
    }

    /** The home thread, or null before the first poll. */
    @AnyThread
    public Thread homeThread() {
        return home;
    }

    /**
     * The {@code @HomeThread} check: the caller is the home thread, or has acquired the context,
     * or the context has no home yet (set-up before its loop starts).
     *
     * @throws IllegalStateException otherwise
     */
    @AnyThread
    public void assertInHomeThread() {
        Thread h = home;
        if (h != null && h != Thread.currentThread() && !lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("AioContext '" + name + "' used from " + Thread.currentThread().getName()
                    + " without acquire(); its home thread is " + h.getName());
        }
    }

    private boolean checkOwned() {
        assertInHomeThread();
        return true;
    }

    private void bindHome(Thread t) {
        if (CURRENT.get() != null) {
            throw new IllegalStateException("thread " + t.getName() + " is already the home of AioContext '"
                    + CURRENT.get().name + "'");
        }
        if (!HOME.compareAndSet(this, (Thread) null, t)) {
            throw new IllegalStateException("AioContext '" + name + "' already has home thread " + home.getName());
        }
        CURRENT.set(this);
    }

    // ---------------------------------------------------------------- bottom halves

    /** Runs {@code task} once in the home thread, after the BHs already queued (QEMU aio_bh_schedule_oneshot). */
    @AnyThread
    public void runOnce(String name, Runnable task) {
        if (closed) throw new RejectedExecutionException("AioContext '" + this.name + "' is closed");
        enqueue(new BottomHalf(this, name, task, BottomHalf.ONESHOT | BottomHalf.PENDING | BottomHalf.SCHEDULED));
    }

    /** {@code runOnce("execute", task)}: lets CompletableFuture's *Async methods hop into this context. */
    @AnyThread
    @Override
    public void execute(Runnable task) {
        runOnce("execute", task);
    }

    /** A reusable BH; {@link BottomHalf#delete} it before the context closes. */
    @AnyThread
    public BottomHalf bhNew(String name, Runnable callback) {
        if (closed) throw new IllegalStateException("AioContext '" + this.name + "' is closed");
        BottomHalf bh = new BottomHalf(this, name, callback, 0);
        liveBhs.add(bh);
        return bh;
    }

    void enqueue(BottomHalf bh) {
        bhQueue.push(bh);
        if (notifyMe != 0 && !(boolean) NOTIFIED.getAndSet(this, true)) {
            wake.set();
        }
    }

    void unregister(BottomHalf bh) {
        liveBhs.remove(bh);
    }

    /**
     * Makes the current or next blocking poll return (QEMU aio_notify). Persistent until the loop
     * wakes, so a kick between a waiter's condition check and its sleep is not lost.
     */
    @AnyThread
    public void kick() {
        if (!(boolean) NOTIFIED.getAndSet(this, true) && notifyMe != 0) {
            wake.set();
        }
    }

    // ---------------------------------------------------------------- timers

    /** A disarmed timer firing {@code callback} in the home thread. */
    @HomeThread
    public AioTimer timerNew(String name, Runnable callback) {
        assert checkOwned();
        return new AioTimer(this, name, callback);
    }

    void timerMod(AioTimer t, long deadlineNs) {
        assert checkOwned();
        timers.add(t, deadlineNs);
        kickIfForeign();   // the sleeping loop computed its timeout without this timer
    }

    void timerDel(AioTimer t) {
        assert checkOwned();
        timers.remove(t);
    }

    // ---------------------------------------------------------------- fd handlers

    /**
     * Watches {@code fd} (level-triggered): {@code onReadable} runs when it is readable (or on
     * error/hang-up), {@code onWritable} when writable. {@code ioPoll}, if not null, is called
     * while busy-polling and returns true if it found and handled work; while any handler without
     * one is installed the context does not busy-poll at all (QEMU's poll_disable_cnt), since
     * spinning could not notice its fd. Replaces an existing
     * handler of the fd. With both callbacks null, removes the fd's handler and returns null
     * (QEMU aio_set_fd_handler). The caller keeps owning the fd.
     */
    @HomeThread
    public FdHandler setFdHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier ioPoll) {
        assert checkOwned();
        if (fd < 0) throw new IllegalArgumentException("fd " + fd);
        if (onReadable == null && onWritable == null) {
            FdHandler old = fds.handlerOf(fd);
            if (old != null) fdRemove(old);
            return null;
        }
        return installHandler(new FdHandler(this, fd, onReadable, onWritable, ioPoll, false, false));
    }

    /**
     * Runs {@code onSet} in the home thread whenever {@code notifier} is set; the callback clears
     * it with {@link EventNotifier#testAndClear} (QEMU aio_set_event_notifier).
     */
    @HomeThread
    public FdHandler setEventNotifier(EventNotifier notifier, Runnable onSet, BooleanSupplier ioPoll) {
        assert checkOwned();
        Objects.requireNonNull(onSet, "onSet");
        return installHandler(new FdHandler(this, notifier.fd(), onSet, null, ioPoll, true, false));
    }

    private FdHandler installHandler(FdHandler h) {
        fds.install(h);
        kickIfForeign();
        return h;
    }

    void fdSetInterest(FdHandler h, boolean read, boolean write) {
        assert checkOwned();
        fds.setInterest(h, read, write);
        kickIfForeign();
    }

    void fdRemove(FdHandler h) {
        assert checkOwned();
        fds.remove(h);
    }

    /** An acquirer changed what the sleeping loop waits for: make it recompute. */
    private void kickIfForeign() {
        if (home != null && !inHomeThread()) kick();
    }

    // ---------------------------------------------------------------- acquire / release

    /**
     * Takes the context lock (rule 2); nests. While held, the home thread runs no callback.
     *
     * @throws IllegalStateException if the caller already holds another context (its own home
     *         context included) without holding the GlobalLock (rule 3), or the context is closed
     */
    @AnyThread
    public void acquire() {
        if (closed) throw new IllegalStateException("AioContext '" + name + "' is closed");
        lock.acquire(CURRENT.get());
    }

    /**
     * Drops one level taken by {@link #acquire}.
     *
     * @throws IllegalStateException if the caller holds no level
     */
    @AnyThread
    public void release() {
        lock.release();
    }

    /** How many levels the caller has acquired. */
    @AnyThread
    public int acquiredLevels() {
        return lock.acquiredLevels();
    }

    int releaseAllLevels() {
        return lock.releaseAllLevels();
    }

    void reacquireLevels(int n) {
        lock.reacquireLevels(n);
    }

    // ---------------------------------------------------------------- poll

    /**
     * Runs one loop iteration in the home thread: busy-polls if the adaptive window is open, waits
     * in epoll_wait if {@code blocking} and nothing is pending, then runs BHs, ready fd handlers
     * and expired timers (QEMU aio_poll). Re-entrant: callbacks may call it to wait for others.
     * The first call binds the home thread of a {@link #create}d context.
     *
     * @return whether a callback ran (wake-ups alone are not progress)
     * @throws IllegalStateException if called from another thread, or after close
     */
    @HomeThread
    public boolean poll(boolean blocking) {
        Thread t = Thread.currentThread();
        if (home != t) {
            if (home == null && CURRENT.get() == null) bindHome(t);
            else throw new IllegalStateException("poll() of AioContext '" + name + "' from " + t.getName()
                    + "; its home thread is " + (home == null ? "unbound" : home.getName()));
        }
        if (closed) throw new IllegalStateException("AioContext '" + name + "' is closed");
        int level = depth++;
        boolean tookGlobal = false;
        try {
            if (main && level == 0 && !GlobalLock.isHeldByCurrentThread()) {
                GlobalLock.lock();
                tookGlobal = true;
            }
            lock.lockForDispatch();
            try {
                return iterate(level, blocking, tookGlobal);
            } finally {
                lock.unlockAfterDispatch();
            }
        } finally {
            depth--;
            if (tookGlobal) GlobalLock.unlock();
        }
    }

    private boolean iterate(int level, boolean blocking, boolean dropGlobalWhileBlocked) {
        long start = System.nanoTime();
        count(LoopCounters.ITERATIONS, 1);
        applyParams();
        boolean progress = false;
        long busy = 0;
        long timeout = blocking ? timeoutNs(start) : 0;
        if (timeout != 0 && pollNs > 0 && !fds.pollDisabled()) {   // QEMU try_poll_mode
            progress = busyPoll(start, timeout < 0 ? pollNs : Math.min(pollNs, timeout));
            long now = System.nanoTime();
            busy = now - start;
            boolean work = progress || !bhQueue.isEmpty() || notified;
            if (work) count(LoopCounters.POLL_HITS, 1);
            timeout = work ? 0 : timeoutNs(now);
        }
        int n = waitForEvents(level, timeout, dropGlobalWhileBlocked);
        long blocked = lastBlockedNs;
        NOTIFIED.setVolatile(this, false);   // QEMU aio_notify_accept: what woke us is handled below
        if (blocking && appliedParams.pollMaxNs() > 0) {
            adjustPollingTime(System.nanoTime() - start);
        }

        int ready = fds.collectReady(level, n);   // QEMU's order: BHs, fd handlers, timers
        progress |= runBottomHalves(level);
        progress |= fds.dispatch(this, level, ready);
        progress |= runTimers();

        if (level == 0) count(LoopCounters.DISPATCH_NS, System.nanoTime() - start - busy - blocked);
        if (busy > 0) count(LoopCounters.BUSY_NS, busy);
        if (blocked > 0) count(LoopCounters.BLOCKED_NS, blocked);
        if (progress && !main) AioWait.kick();   // the main loop may wait for what this iteration did
        if (level > 0) lock.yieldIfWaited();
        return progress;
    }

    /**
     * Spins for up to {@code limitNs} calling the ioPoll hooks (QEMU run_poll_handlers) until one
     * makes progress, a BH or wake-up arrives, or another thread queues for the context lock.
     */
    private boolean busyPoll(long start, long limitNs) {
        boolean progress;
        do {
            progress = runPollHandlers();
        } while (!progress && bhQueue.isEmpty() && !notified && System.nanoTime() - start < limitNs
                && !lock.hasWaiters());
        return progress;
    }

    /**
     * epoll_wait for {@code timeoutNs} (-1: forever, 0: just look). Before sleeping, announces it in
     * notifyMe and re-checks for work (a producer that pushed earlier saw notifyMe == 0), then
     * drops every level of the context lock, and the GlobalLock at the main loop's outermost level.
     */
    private int waitForEvents(int level, long timeoutNs, boolean dropGlobal) {
        lastBlockedNs = 0;
        if (timeoutNs != 0) {
            notifyMe = 1;
            if (!bhQueue.isEmpty() || notified) timeoutNs = 0;
        }
        if (timeoutNs == 0) {
            notifyMe = 0;
            return fds.waitEvents(level, 0);
        }
        int holds = lock.unlockAll();
        if (dropGlobal) GlobalLock.unlock();
        long t0 = System.nanoTime();
        try {
            return fds.waitEvents(level, timeoutNs);
        } finally {
            notifyMe = 0;
            lastBlockedNs = System.nanoTime() - t0;
            if (dropGlobal) GlobalLock.lock();
            lock.relock(holds);
        }
    }

    /** Nanoseconds until something is due: 0 if BHs or a wake-up are pending, -1 for no timer. */
    private long timeoutNs(long now) {
        if (!bhQueue.isEmpty() || notified) return 0;
        AioTimer t = timers.peek();
        if (t == null) return -1;
        return Math.max(0, t.deadlineNs - now);
    }

    private void applyParams() {
        PollParams p = params;
        if (p != appliedParams) {
            appliedParams = p;
            pollNs = 0;   // QEMU aio_context_set_poll_params: start again from no polling
            counters.set(LoopCounters.POLL_WINDOW, 0);
        }
    }

    /** QEMU util/aio-posix.c adjust_polling_time, applied to the context-wide window. */
    private void adjustPollingTime(long blockNs) {
        PollParams p = appliedParams;
        long max = p.pollMaxNs();
        long old = pollNs;
        if (blockNs <= pollNs) {
            return;   // the sweet spot: the event came within the window
        } else if (blockNs > max) {
            pollNs = p.pollShrink() != 0 ? pollNs / p.pollShrink() : 0;   // we'd have to poll too long
        } else if (pollNs < max && blockNs < max) {
            long grow = p.pollGrow() != 0 ? p.pollGrow() : 2;
            pollNs = pollNs != 0 ? Math.min(pollNs * grow, max) : Math.min(POLL_WINDOW_START_NS, max);
        }
        if (pollNs != old) counters.set(LoopCounters.POLL_WINDOW, pollNs);
    }

    private boolean runPollHandlers() {
        boolean progress = false;
        for (FdHandler h : fds.pollHandlers()) {
            if (h.removed) continue;
            try {
                if (h.ioPoll.getAsBoolean()) progress = true;
            } catch (Throwable e) {
                report(h, e);
            }
        }
        return progress;
    }

    private EndMarker marker(int level) {
        if (level >= markers.length) {
            int from = markers.length;
            markers = Arrays.copyOf(markers, level + 1);
            for (int i = from; i <= level; i++) {
                markers[i] = new EndMarker();
                markers[i].consumed = true;   // "not queued"
            }
        }
        return markers[level];
    }

    /**
     * Runs the BHs queued before this level's end marker. A nested level pops the outer level's
     * marker on its way to its own; the outer level then stops, since the nested one ran its BHs.
     */
    private boolean runBottomHalves(int level) {
        if (bhQueue.isEmpty()) return false;
        EndMarker mine = marker(level);
        if (!mine.consumed) {
            // Still queued: a VirtualMachineError unwound this level mid-batch. A node must never
            // be queued twice, so this level gets a fresh marker; the stale one is skipped.
            mine = markers[level] = new EndMarker();
        }
        mine.consumed = false;
        bhQueue.push(mine);
        boolean progress = false;
        int spins = 0;
        while (!mine.consumed) {
            BhNode node = bhQueue.pop();
            if (node == null) {   // a producer is between its exchange and its link: it will link soon
                if (++spins > 100) Thread.yield();
                else Thread.onSpinWait();
                continue;
            }
            if (node instanceof EndMarker m) {
                m.consumed = true;
                continue;
            }
            BottomHalf bh = (BottomHalf) node;
            int flags = bh.takeForRun();
            if ((flags & (BottomHalf.SCHEDULED | BottomHalf.DELETED)) == BottomHalf.SCHEDULED) {
                count(LoopCounters.BHS, 1);
                progress = true;
                runCallback(bh.callback, bh);
            }
        }
        return progress;
    }

    private boolean runTimers() {
        AioTimer t = timers.peek();
        if (t == null) return false;
        long now = System.nanoTime();
        boolean progress = false;
        while ((t = timers.peek()) != null && t.deadlineNs - now <= 0) {
            timers.remove(t);
            count(LoopCounters.TIMERS, 1);
            progress = true;
            runCallback(t.callback, t);
        }
        return progress;
    }

    void runCallback(Runnable r, Object what) {
        try {
            r.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            report(what, e);
        }
    }

    void countFdEvent(boolean notifier) {
        count(notifier ? LoopCounters.NOTIFIER_EVENTS : LoopCounters.FD_EVENTS, 1);
    }

    private void report(Object what, Throwable e) {
        count(LoopCounters.ERRORS, 1);
        Consumer<Throwable> h = exceptionHandler;
        if (h != null) {
            h.accept(e);
        } else {
            LOG.error("AioContext '{}': {} threw", name, what, e);
        }
    }

    /** Where exceptions thrown by callbacks go (default: logged); callbacks never kill the loop. */
    @AnyThread
    public void setExceptionHandler(Consumer<Throwable> handler) {
        this.exceptionHandler = handler;
    }

    // ---------------------------------------------------------------- params, stats, services

    /** The adaptive polling parameters in effect from the next iteration. */
    @AnyThread
    public PollParams pollParams() {
        return params;
    }

    /** Publishes new polling parameters; the loop picks them up at its next iteration (it is kicked). */
    @AnyThread
    public void setPollParams(PollParams p) {
        params = Objects.requireNonNull(p, "params");
        kick();
    }

    private void count(int slot, long delta) {
        counters.add(slot, delta);
    }

    /** A snapshot of the counters; any thread (each value is current, the set is not atomic). */
    @AnyThread
    public AioStats stats() {
        return counters.snapshot();
    }

    /**
     * The context's instance of a service other modules hang on it (e.g.
     * {@code ctx.service(ThreadPool.class, ThreadPool::new)}), created by {@code factory} on first
     * use. Services that are AutoCloseable are closed by {@link #close}, newest first.
     */
    @AnyThread
    public <T> T service(Class<T> type, Function<AioContext, ? extends T> factory) {
        synchronized (services) {
            Object s = services.get(type);
            if (s == null) {
                if (closed) throw new IllegalStateException("AioContext '" + name + "' is closed");
                s = Objects.requireNonNull(factory.apply(this), "service");
                Object raced = services.putIfAbsent(type, s);   // the factory may have made it recursively
                if (raced != null) s = raced;
            }
            return type.cast(s);
        }
    }

    // ---------------------------------------------------------------- close

    /**
     * Closes services (newest first), drops queued BHs, timers and fd handlers, and frees the
     * epoll instance. Call it from the home thread after its loop ended (or before any poll).
     *
     * @throws IllegalStateException naming every reusable BottomHalf never deleted (QEMU's
     *         aio_ctx_finalize aborts the same way: something still expects such a BH to run)
     */
    @HomeThread
    @Override
    public void close() {
        Thread h = home;
        if (h != null && h != Thread.currentThread() && h.isAlive()) {
            throw new IllegalStateException("AioContext '" + name + "' closed from " + Thread.currentThread().getName()
                    + " while its home thread " + h.getName() + " is alive");
        }
        if (closed) return;
        if (depth > 0) throw new IllegalStateException("AioContext '" + name + "' closed inside its own poll()");
        List<Object> toClose;
        synchronized (services) {
            toClose = new ArrayList<>(services.values());
        }
        RuntimeException failure = null;
        for (int i = toClose.size() - 1; i >= 0; i--) {
            if (toClose.get(i) instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (failure == null) failure = new IllegalStateException("closing a service of '" + name + "'", e);
                    else failure.addSuppressed(e);
                }
            }
        }
        closed = true;
        List<String> dropped = new ArrayList<>();
        BhNode node;
        while ((node = bhQueue.pop()) != null) {
            if (node instanceof BottomHalf bh && (bh.takeForRun() & (BottomHalf.SCHEDULED | BottomHalf.DELETED)) == BottomHalf.SCHEDULED) {
                dropped.add(bh.name());
            }
        }
        if (!dropped.isEmpty()) LOG.warn("AioContext '{}' closed with BHs {} never run", name, dropped);
        timers.clear();
        fds.close();
        wake.close();
        if (h == Thread.currentThread() && CURRENT.get() == this) CURRENT.remove();
        if (!liveBhs.isEmpty()) {
            List<String> names = liveBhs.stream().map(BottomHalf::name).sorted().toList();
            var leak = new IllegalStateException("AioContext '" + name + "' closed with BH(s) not deleted: " + names);
            if (failure != null) leak.addSuppressed(failure);
            throw leak;
        }
        if (failure != null) throw failure;
    }

    /** Whether close() ran. */
    @AnyThread
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "AioContext[" + name + "]";
    }
}
