package qmpd.aio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.nativeio.ErrnoException;
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
    private static final int MAX_EVENTS = 128;
    /** QEMU starts a growing window at 4 µs (adjust_polling_time). */
    private static final long POLL_WINDOW_START_NS = 4000;

    private static final VarHandle NOTIFIED;
    private static final VarHandle HOME;
    private static final VarHandle COUNTER = MethodHandles.arrayElementVarHandle(long[].class);

    static {
        try {
            var lookup = MethodHandles.lookup();
            NOTIFIED = lookup.findVarHandle(AioContext.class, "notified", boolean.class);
            HOME = lookup.findVarHandle(AioContext.class, "home", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Counter slots: written only by the home thread with setOpaque (no fence, no tearing), read
    // by stats() from any thread with getOpaque. No LongAdder: there is exactly one writer.
    private static final int C_ITERATIONS = 0, C_BHS = 1, C_FD_EVENTS = 2, C_NOTIFIER_EVENTS = 3,
            C_TIMERS = 4, C_POLL_HITS = 5, C_BUSY_NS = 6, C_BLOCKED_NS = 7, C_DISPATCH_NS = 8,
            C_POLL_WINDOW = 9, C_ERRORS = 10, C_COUNT = 11;

    private final String name;
    /** The main loop's context: dispatches with the GlobalLock held. */
    private final boolean main;
    /** Bound once (CAS), read from any thread. */
    private volatile Thread home;
    /** The context lock of rule 2; fair, so a queued acquirer goes first when the loop lets go. */
    private final ReentrantLock lock = new ReentrantLock(true);
    private final BhQueue bhQueue = new BhQueue();
    /** Reusable BHs not yet deleted, for the leak check in close(); any thread. */
    private final Set<BottomHalf> liveBhs = ConcurrentHashMap.newKeySet();
    /** Home thread or acquirer, like every field down to {@code depth}. */
    private final TimerHeap timers = new TimerHeap();
    private FdHandler[] byFd = new FdHandler[64];
    /** Handlers with an ioPoll hook; copied on change, so a hook may add or remove handlers. */
    private FdHandler[] pollHandlers = new FdHandler[0];
    private final int epfd;
    private final EventNotifier wake;
    private final Arena arena = Arena.ofShared();
    private MemorySegment[] eventBufs = new MemorySegment[0];
    private FdHandler[][] readyHandlers = new FdHandler[0][];
    private int[][] readyEvents = new int[0][];
    private EndMarker[] markers = new EndMarker[0];
    /** Current poll() nesting depth. */
    private int depth;
    /** The params the loop runs with, and its current busy-poll window. */
    private PollParams appliedParams;
    private long pollNs;

    /** 1 while the home thread is about to sleep or sleeping in epoll_wait; written by it only. */
    private volatile int notifyMe;
    /** Set by wake-ups, cleared by the loop once it is awake (QEMU's ctx->notified). */
    @SuppressWarnings("unused")
    private volatile boolean notified;
    /** Set from any thread, picked up at the next iteration. */
    private volatile PollParams params;
    private volatile boolean closed;
    private volatile Consumer<Throwable> exceptionHandler;
    private final long[] counters = new long[C_COUNT];
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
        this.epfd = LinuxSyscalls.epollCreate();
        this.wake = EventNotifier.create();
        FdHandler h = new FdHandler(this, wake.fd(), wake::testAndClear, null, null, true, true);
        installHandler(h);
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
        if (!inHomeThread()) kick();   // the sleeping loop computed its timeout without this timer
    }

    void timerDel(AioTimer t) {
        assert checkOwned();
        timers.remove(t);
    }

    // ---------------------------------------------------------------- fd handlers

    /**
     * Watches {@code fd} (level-triggered): {@code onReadable} runs when it is readable (or on
     * error/hang-up), {@code onWritable} when writable. {@code ioPoll}, if not null, is called
     * while busy-polling and returns true if it found and handled work. Replaces an existing
     * handler of the fd. With both callbacks null, removes the fd's handler and returns null
     * (QEMU aio_set_fd_handler). The caller keeps owning the fd.
     */
    @HomeThread
    public FdHandler setFdHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier ioPoll) {
        assert checkOwned();
        if (fd < 0) throw new IllegalArgumentException("fd " + fd);
        if (onReadable == null && onWritable == null) {
            FdHandler old = handlerOf(fd);
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

    private FdHandler handlerOf(int fd) {
        return fd < byFd.length ? byFd[fd] : null;
    }

    private FdHandler installHandler(FdHandler h) {
        int fd = h.fd();
        if (fd >= byFd.length) byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        FdHandler old = byFd[fd];
        int events = interestOf(h.wantRead, h.wantWrite);
        if (old != null) {
            old.removed = true;
            LinuxSyscalls.epollCtl(epfd, old.inEpoll ? LinuxSyscalls.EPOLL_CTL_MOD : LinuxSyscalls.EPOLL_CTL_ADD, fd, events);
        } else {
            LinuxSyscalls.epollCtl(epfd, LinuxSyscalls.EPOLL_CTL_ADD, fd, events);
        }
        h.inEpoll = true;
        byFd[fd] = h;
        if (old != null && old.ioPoll != null || h.ioPoll != null) rebuildPollHandlers();
        if (!inHomeThread() && home != null) kick();
        return h;
    }

    private static int interestOf(boolean read, boolean write) {
        return (read ? LinuxSyscalls.EPOLLIN : 0) | (write ? LinuxSyscalls.EPOLLOUT : 0);
    }

    void fdSetInterest(FdHandler h, boolean read, boolean write) {
        assert checkOwned();
        if (h.removed) throw new IllegalStateException(h + " was removed");
        h.wantRead = read;
        h.wantWrite = write;
        int fd = h.fd();
        if (!read && !write) {
            if (h.inEpoll) LinuxSyscalls.epollCtl(epfd, LinuxSyscalls.EPOLL_CTL_DEL, fd, 0);
            h.inEpoll = false;
        } else {
            LinuxSyscalls.epollCtl(epfd, h.inEpoll ? LinuxSyscalls.EPOLL_CTL_MOD : LinuxSyscalls.EPOLL_CTL_ADD,
                    fd, interestOf(read, write));
            h.inEpoll = true;
        }
        if (!inHomeThread()) kick();
    }

    void fdRemove(FdHandler h) {
        assert checkOwned();
        if (h.removed) return;
        h.removed = true;   // levels still holding it in their ready copy skip it
        int fd = h.fd();
        if (byFd[fd] == h) byFd[fd] = null;
        if (h.inEpoll) {
            h.inEpoll = false;
            try {
                LinuxSyscalls.epollCtl(epfd, LinuxSyscalls.EPOLL_CTL_DEL, fd, 0);
            } catch (ErrnoException e) {
                // EBADF/ENOENT: the owner closed the fd first, which already removed it from epoll
            }
        }
        if (h.ioPoll != null) rebuildPollHandlers();
    }

    private void rebuildPollHandlers() {
        List<FdHandler> list = new ArrayList<>();
        for (FdHandler h : byFd) {
            if (h != null && h.ioPoll != null) list.add(h);
        }
        pollHandlers = list.toArray(new FdHandler[0]);
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
        HeldContexts held = HeldContexts.OF_THREAD.get();
        AioContext own = CURRENT.get();
        AioContext other = own != null && own != this ? own : held.anyOtherThan(this);
        if (other != null && !GlobalLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " holds AioContext '"
                    + other.name + "' and acquires '" + name + "': only the GlobalLock holder may hold several");
        }
        lock.lock();
        held.inc(this);
    }

    /**
     * Drops one level taken by {@link #acquire}.
     *
     * @throws IllegalStateException if the caller holds no level
     */
    @AnyThread
    public void release() {
        if (!HeldContexts.OF_THREAD.get().dec(this)) {
            throw new IllegalStateException("AioContext '" + name + "' released by "
                    + Thread.currentThread().getName() + ", which has not acquired it");
        }
        lock.unlock();
    }

    /** How many levels the caller has acquired. */
    @AnyThread
    public int acquiredLevels() {
        return HeldContexts.OF_THREAD.get().count(this);
    }

    /** Releases every level the caller acquired and returns their number (for AioWait). */
    int releaseAllLevels() {
        HeldContexts held = HeldContexts.OF_THREAD.get();
        int n = held.count(this);
        for (int i = 0; i < n; i++) {
            held.dec(this);
            lock.unlock();
        }
        return n;
    }

    /** Takes back levels dropped by releaseAllLevels; no rule-3 check, they were held before. */
    void reacquireLevels(int n) {
        HeldContexts held = HeldContexts.OF_THREAD.get();
        for (int i = 0; i < n; i++) {
            lock.lock();
            held.inc(this);
        }
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
            lock.lock();
            try {
                return iterate(level, blocking, tookGlobal);
            } finally {
                lock.unlock();
            }
        } finally {
            depth--;
            if (tookGlobal) GlobalLock.unlock();
        }
    }

    private boolean iterate(int level, boolean blocking, boolean dropGlobalWhileBlocked) {
        long start = System.nanoTime();
        count(C_ITERATIONS, 1);
        applyParams();
        boolean progress = false;
        long busy = 0;
        long blocked = 0;
        long timeout = blocking ? timeoutNs(start) : 0;

        if (timeout != 0 && pollNs > 0) {   // QEMU try_poll_mode
            long limit = timeout < 0 ? pollNs : Math.min(pollNs, timeout);
            boolean work;
            long now;
            do {
                progress = runPollHandlers();
                work = progress || !bhQueue.isEmpty() || notified;
                now = System.nanoTime();
            } while (!work && now - start < limit && !lock.hasQueuedThreads());
            busy = now - start;
            if (work) {
                count(C_POLL_HITS, 1);
                timeout = 0;
            } else {
                timeout = timeoutNs(now);
            }
        }

        MemorySegment events = eventBuf(level);
        int n;
        if (timeout != 0) {
            notifyMe = 1;
            // Re-check after announcing: a producer that pushed before it saw notifyMe == 0.
            if (!bhQueue.isEmpty() || notified) timeout = 0;
        }
        if (timeout != 0) {
            int holds = lock.getHoldCount();
            for (int i = 0; i < holds; i++) lock.unlock();
            if (dropGlobalWhileBlocked) GlobalLock.unlock();
            long t0 = System.nanoTime();
            try {
                n = LinuxSyscalls.epollWait(epfd, events, MAX_EVENTS, toMillis(timeout));
            } finally {
                notifyMe = 0;
                blocked = System.nanoTime() - t0;
                if (dropGlobalWhileBlocked) GlobalLock.lock();
                for (int i = 0; i < holds; i++) lock.lock();
            }
        } else {
            notifyMe = 0;
            n = LinuxSyscalls.epollWait(epfd, events, MAX_EVENTS, 0);
        }
        NOTIFIED.setVolatile(this, false);   // QEMU aio_notify_accept: what woke us is handled below

        if (blocking && appliedParams.pollMaxNs() > 0) {
            adjustPollingTime(System.nanoTime() - start);
        }

        int ready = copyReady(level, events, n);
        progress |= runBottomHalves(level);
        progress |= dispatchFds(level, ready);
        progress |= runTimers();

        if (level == 0) count(C_DISPATCH_NS, System.nanoTime() - start - busy - blocked);
        if (busy > 0) count(C_BUSY_NS, busy);
        if (blocked > 0) count(C_BLOCKED_NS, blocked);
        if (progress && !main) AioWait.kick();   // the main loop may wait for what this iteration did
        if (level > 0 && lock.hasQueuedThreads()) yieldToAcquirer();
        return progress;
    }

    /** A nested poll keeps the lock across iterations; let a queued acquirer in (fair lock). */
    private void yieldToAcquirer() {
        int holds = lock.getHoldCount();
        for (int i = 0; i < holds; i++) lock.unlock();
        for (int i = 0; i < holds; i++) lock.lock();
    }

    /** Nanoseconds until something is due: 0 if BHs or a wake-up are pending, -1 for no timer. */
    private long timeoutNs(long now) {
        if (!bhQueue.isEmpty() || notified) return 0;
        AioTimer t = timers.peek();
        if (t == null) return -1;
        return Math.max(0, t.deadlineNs - now);
    }

    /** Rounds up (QEMU qemu_timeout_ns_to_ms): a timer never fires early. */
    private static int toMillis(long ns) {
        if (ns < 0) return -1;
        long ms = (ns + 999_999) / 1_000_000;
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    private void applyParams() {
        PollParams p = params;
        if (p != appliedParams) {
            appliedParams = p;
            pollNs = 0;   // QEMU aio_context_set_poll_params: start again from no polling
            setCounter(C_POLL_WINDOW, 0);
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
        if (pollNs != old) setCounter(C_POLL_WINDOW, pollNs);
    }

    private boolean runPollHandlers() {
        boolean progress = false;
        for (FdHandler h : pollHandlers) {
            if (h.removed) continue;
            try {
                if (h.ioPoll.getAsBoolean()) progress = true;
            } catch (Throwable e) {
                report(h, e);
            }
        }
        return progress;
    }

    private MemorySegment eventBuf(int level) {
        if (level >= eventBufs.length) {
            int len = level + 1;
            eventBufs = Arrays.copyOf(eventBufs, len);
            readyHandlers = Arrays.copyOf(readyHandlers, len);
            readyEvents = Arrays.copyOf(readyEvents, len);
            markers = Arrays.copyOf(markers, len);
            eventBufs[level] = arena.allocate(MAX_EVENTS * LinuxSyscalls.EPOLL_EVENT_SIZE, 8);
            readyHandlers[level] = new FdHandler[MAX_EVENTS];
            readyEvents[level] = new int[MAX_EVENTS];
            markers[level] = new EndMarker();
        }
        return eventBufs[level];
    }

    /** Resolves this level's epoll results to handlers before any callback can change the table. */
    private int copyReady(int level, MemorySegment events, int n) {
        FdHandler[] hs = readyHandlers[level];
        int[] evs = readyEvents[level];
        int m = 0;
        for (int i = 0; i < n; i++) {
            FdHandler h = handlerOf(LinuxSyscalls.epollFd(events, i));
            if (h != null) {
                hs[m] = h;
                evs[m++] = LinuxSyscalls.epollEvents(events, i);
            }
        }
        return m;
    }

    private boolean dispatchFds(int level, int ready) {
        FdHandler[] hs = readyHandlers[level];
        int[] evs = readyEvents[level];
        boolean progress = false;
        for (int i = 0; i < ready; i++) {
            FdHandler h = hs[i];
            hs[i] = null;
            int ev = evs[i];
            boolean ran = false;
            if (!h.removed && h.wantRead && (ev & (LinuxSyscalls.EPOLLIN | LinuxSyscalls.EPOLLHUP | LinuxSyscalls.EPOLLERR)) != 0) {
                run(h.onReadable, h);
                ran = true;
            }
            if (!h.removed && h.wantWrite && (ev & (LinuxSyscalls.EPOLLOUT | LinuxSyscalls.EPOLLHUP | LinuxSyscalls.EPOLLERR)) != 0) {
                run(h.onWritable, h);
                ran = true;
            }
            if (ran && !h.internal) {
                progress = true;
                count(h.notifier ? C_NOTIFIER_EVENTS : C_FD_EVENTS, 1);
            }
        }
        return progress;
    }

    /**
     * Runs the BHs queued before this level's end marker. A nested level pops the outer level's
     * marker on its way to its own; the outer level then stops, since the nested one ran its BHs.
     */
    private boolean runBottomHalves(int level) {
        if (bhQueue.isEmpty()) return false;
        EndMarker mine = markers[level];
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
                count(C_BHS, 1);
                progress = true;
                run(bh.callback, bh);
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
            count(C_TIMERS, 1);
            progress = true;
            run(t.callback, t);
        }
        return progress;
    }

    private void run(Runnable r, Object what) {
        try {
            r.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            report(what, e);
        }
    }

    private void report(Object what, Throwable e) {
        count(C_ERRORS, 1);
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
        COUNTER.setOpaque(counters, slot, (long) COUNTER.getOpaque(counters, slot) + delta);
    }

    private void setCounter(int slot, long value) {
        COUNTER.setOpaque(counters, slot, value);
    }

    private long counter(int slot) {
        return (long) COUNTER.getOpaque(counters, slot);
    }

    /** A snapshot of the counters; any thread (each value is current, the set is not atomic). */
    @AnyThread
    public AioStats stats() {
        return new AioStats(counter(C_ITERATIONS), counter(C_BHS), counter(C_FD_EVENTS), counter(C_NOTIFIER_EVENTS),
                counter(C_TIMERS), counter(C_POLL_HITS), counter(C_BUSY_NS), counter(C_BLOCKED_NS),
                counter(C_DISPATCH_NS), counter(C_POLL_WINDOW), counter(C_ERRORS));
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
        Arrays.fill(byFd, null);
        wake.close();
        LinuxSyscalls.close(epfd);
        arena.close();
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
