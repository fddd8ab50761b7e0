package qmpd.block;

import qmpd.aio.AioContext;
import qmpd.aio.AioWait;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.HomeThread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A node of the block graph (QEMU's BlockDriverState): a driver's state, its children, its users,
 * the AioContext it lives in, and the request front end that checks, accounts, parks while drained
 * and emulates what the driver lacks.
 *
 * <p>Fields and their owners:
 * <ul>
 *   <li>{@code context}, {@code quiesce}: written by the main loop with the GlobalLock held, only
 *       inside a drained section for {@code context}; read by any thread (volatile).</li>
 *   <li>{@code inFlight}: changed atomically by the home thread (and by a stale resume BH that
 *       finds the node gone); read by the main loop's drain. A submitter counts itself in
 *       <em>before</em> it reads {@code quiesce}, and the drain sets {@code quiesce} before it
 *       reads {@code inFlight}, so one of the two always sees the other (QEMU's
 *       blk_wait_while_drained does the same with in_flight).</li>
 *   <li>{@code serialQueue}, {@code serialBusy}: home thread only.</li>
 *   <li>{@code parked}: requests submitted while quiesced; added by the home thread, drained by the
 *       resume BH in the (possibly new) home thread; a concurrent queue because the two differ
 *       across a context move.</li>
 *   <li>{@code parents}, {@code users}: GlobalState.</li>
 * </ul>
 */
public final class BlockNode {

    private final String nodeName;
    private final BlockDriverState drv;
    private final boolean readOnly;
    private final List<BlockChild> children;
    private final BlockStats stats = new BlockStats();
    private final BlockCompletion accounting = this::accounted;
    private final Emulation emulation = new Emulation(this);

    private volatile AioContext context;
    private volatile int quiesce;
    @SuppressWarnings("unused")   // through IN_FLIGHT
    private volatile int inFlight;
    private static final VarHandle IN_FLIGHT;

    static {
        try {
            IN_FLIGHT = MethodHandles.lookup().findVarHandle(BlockNode.class, "inFlight", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private volatile long size;

    private final ConcurrentLinkedQueue<BlockRequest> parked = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<BlockRequest> serialQueue = new ArrayDeque<>();
    private boolean serialBusy;

    private final List<BlockNode> parents = new ArrayList<>();
    private final List<String> users = new ArrayList<>();
    private final List<ContextListener> contextListeners = new CopyOnWriteArrayList<>();

    /** Told when its node moves between contexts, inside the drained section (QEMU's aio context notifiers). */
    public interface ContextListener {
        /** The node leaves {@code old}; stop using that thread (e.g. remove fd handlers). */
        @GlobalState
        void detach(AioContext old);

        /** The node now lives in {@code ctx}; move there. */
        @GlobalState
        void attach(AioContext ctx);
    }

    BlockNode(String nodeName, BlockDriverState drv, boolean readOnly, AioContext context) {
        this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
        this.drv = Objects.requireNonNull(drv, "drv");
        this.readOnly = readOnly;
        this.context = Objects.requireNonNull(context, "context");
        this.children = List.copyOf(drv.children());
        this.size = drv.size();
        for (BlockChild c : children) {
            c.node().parents.add(this);
        }
    }

    @AnyThread
    public String nodeName() {
        return nodeName;
    }

    @AnyThread
    public String driverName() {
        return drv.driverName();
    }

    @AnyThread
    public boolean readOnly() {
        return readOnly;
    }

    /** The size in bytes, as last known (changes only by a resize, under the GlobalLock). */
    @AnyThread
    public long size() {
        return size;
    }

    @AnyThread
    public AioContext context() {
        return context;
    }

    @AnyThread
    public List<BlockChild> children() {
        return children;
    }

    @AnyThread
    public BlockStats stats() {
        return stats;
    }

    /** Requests accepted by the driver and not yet completed. */
    @AnyThread
    public int inFlight() {
        return (int) IN_FLIGHT.getVolatile(this);
    }

    @AnyThread
    public boolean quiesced() {
        return quiesce > 0;
    }

    /** The driver state; for drivers that forward to children and for tests. */
    public BlockDriverState driverState() {
        return drv;
    }

    @GlobalState
    public List<BlockNode> parents() {
        return List.copyOf(parents);
    }

    /** Names the users of this node (e.g. {@code "export 'e0'"}); a used node cannot be deleted. */
    @GlobalState
    public void addUser(String who) {
        users.add(who);
    }

    @GlobalState
    public void removeUser(String who) {
        users.remove(who);
    }

    @GlobalState
    void parentsRemove(BlockNode parent) {
        parents.remove(parent);
    }

    @GlobalState
    public List<String> users() {
        return List.copyOf(users);
    }

    /** Whether another node or a user holds this node (QEMU's bdrv_has_blk / refcnt check). */
    @GlobalState
    public boolean inUse() {
        return !parents.isEmpty() || !users.isEmpty();
    }

    @AnyThread
    public void addContextListener(ContextListener l) {
        contextListeners.add(l);
    }

    @AnyThread
    public void removeContextListener(ContextListener l) {
        contextListeners.remove(l);
    }

    // ---------------------------------------------------------------- the request front end

    /**
     * Submits a user's request (an export, a job). While the node is drained the request is parked
     * and started when the drained section ends, in the node's home thread at that time.
     * The completion runs in the home thread, possibly before this returns.
     */
    @HomeThread
    public void submit(BlockRequest req) {
        assert context.inHomeThread() : "submit to node '" + nodeName + "' outside its home thread";
        IN_FLIGHT.getAndAdd(this, 1);   // before reading quiesce: see the field notes
        if (quiesce > 0) {
            park(req);
            return;
        }
        start(req);
    }

    /**
     * Submits a request from a parent node (a format forwarding to its protocol child). Never
     * parked: a drained section waits for requests already inside the graph to finish, and those
     * may need their children to make progress.
     */
    @HomeThread
    public void submitFromParent(BlockRequest req) {
        IN_FLIGHT.getAndAdd(this, 1);
        start(req);
    }

    /** Parks a request that found the node quiesced; it was counted in flight, and is no longer. */
    private void park(BlockRequest req) {
        parked.add(req);   // before the count drops, so the drain's end sees it parked
        leave();
    }

    /** One request fewer in flight; wakes a drain that waits for the count. */
    private void leave() {
        IN_FLIGHT.getAndAdd(this, -1);
        if (quiesce > 0) {
            AioWait.kick();
        }
    }

    /** Starts a request already counted in flight. */
    private void start(BlockRequest req) {
        int err = check(req);
        if (err != 0) {
            stats.invalid(req.op());
            req.complete(err);
            leave();
            return;
        }
        req.startNs = System.nanoTime();
        req.push(accounting);
        if (drv.concurrency() == Concurrency.SERIALIZE_REQUESTS) {
            if (serialBusy) {
                serialQueue.add(req);
                return;
            }
            serialBusy = true;
        }
        dispatch(req);
    }

    /** QEMU's blk_check_byte_request and bdrv_co_pwritev's read-only check. */
    private int check(BlockRequest req) {
        BlockOp op = req.op();
        if (op.writes() && readOnly) {
            return -Errno.EPERM;
        }
        if (op.ranged()) {
            long off = req.offset();
            long len = req.length();
            long sz = size;
            if (off < 0 || len < 0 || off > sz || len > sz - off) {
                return -Errno.EIO;
            }
            if ((op == BlockOp.READ || op == BlockOp.WRITE)
                    && (req.buffer() == null || req.buffer().remaining() < len)) {
                return -Errno.EINVAL;
            }
        }
        return 0;
    }

    private void dispatch(BlockRequest req) {
        switch (req.op()) {
            case WRITE -> {
                if (req.hasFlag(BlockRequest.FLAG_FUA) && drv.fua() != Support.NATIVE) {
                    req.push(emulation.flushAfterWrite);
                }
                drv.submit(req);
            }
            case WRITE_ZEROES -> {
                if (drv.writeZeroes() == Support.NATIVE) {
                    if (req.hasFlag(BlockRequest.FLAG_FUA) && drv.fua() != Support.NATIVE) {
                        req.push(emulation.flushAfterWrite);
                    }
                    drv.submit(req);
                } else if (req.hasFlag(BlockRequest.FLAG_NO_FALLBACK) || drv.writeZeroes() == Support.NONE) {
                    req.complete(-Errno.ENOTSUP);
                } else {
                    emulation.writeZeroes(req);
                }
            }
            case DISCARD -> {
                if (drv.discard() == Support.NONE) {
                    req.complete(0);   // discard is advisory (QEMU's bdrv_co_pdiscard)
                } else {
                    drv.submit(req);
                }
            }
            case BLOCK_STATUS -> {
                if (drv.blockStatus() == Support.NATIVE) {
                    drv.submit(req);
                } else {
                    req.setStatus(req.length(), BlockRequest.STATUS_DATA);
                    req.complete(0);
                }
            }
            default -> drv.submit(req);
        }
    }

    /**
     * Emits a debug event at this node (QEMU's BLKDBG_EVENT): the first driver down the chain of
     * first children that takes debug events sees it; without one the event is dropped.
     */
    @HomeThread
    public void debugEvent(String event) {
        assert context.inHomeThread() : "debug event at node '" + nodeName + "' outside its home thread";
        BlockNode n = eventTarget();
        if (n != null) {
            n.drv.debugEvent(event);
        }
    }

    /**
     * Whether a debug event emitted here reaches a driver. Fixed for the node's life (its children
     * never change), so a parent may ask once at open and skip emitting on its I/O path.
     */
    @AnyThread
    public boolean takesDebugEvents() {
        return eventTarget() != null;
    }

    private BlockNode eventTarget() {
        BlockNode n = this;
        while (!n.drv.takesDebugEvents()) {
            if (n.children.isEmpty()) {
                return null;
            }
            n = n.children.getFirst().node();
        }
        return n;
    }

    /** Submits straight to the driver, bypassing checks and accounting: for the node's own emulation. */
    void submitToDriver(BlockRequest req) {
        drv.submit(req);
    }

    private void accounted(BlockRequest req) {
        long now = System.nanoTime();
        BlockOp op = req.op();
        stats.done(op, req.length(), req.result(), now - req.startNs, now);
        BlockRequest next = null;
        if (drv.concurrency() == Concurrency.SERIALIZE_REQUESTS) {
            next = serialQueue.poll();
            serialBusy = next != null;
        }
        // The user's completion runs before in-flight drops, so a drain that sees zero knows
        // every completion has returned; requests it submits meanwhile are parked.
        req.complete(req.result());
        leave();
        if (next != null) {
            dispatch(next);
        }
    }

    // ---------------------------------------------------------------- drain and context moves

    @GlobalState
    void quiesceBegin() {
        quiesce = quiesce + 1;
    }

    /** Ends one quiesce level; the last one restarts parked requests in the current home thread. */
    @GlobalState
    void quiesceEnd() {
        int q = quiesce - 1;
        quiesce = q;
        if (q == 0 && !parked.isEmpty()) {
            context.runOnce("block-resume:" + nodeName, this::resumeParked);
        }
    }

    /**
     * The resume BH. It may run in a context the node has left since it was scheduled (another
     * drained section moved the node before it ran): it then leaves the requests parked, and the
     * section that moved the node schedules the resume in the new home when it ends.
     */
    private void resumeParked() {
        while (!parked.isEmpty()) {
            IN_FLIGHT.getAndAdd(this, 1);   // count first, then look: a drain beginning now waits for us
            if (quiesce > 0 || !context.inHomeThread()) {
                leave();
                return;
            }
            BlockRequest r = parked.poll();
            if (r == null) {
                leave();
                return;
            }
            start(r);
        }
    }

    /** Sets the home context; the node is drained. */
    @GlobalState
    void moveTo(AioContext ctx) {
        AioContext old = context;
        if (old == ctx) {
            return;
        }
        drv.detachContext(old);
        for (ContextListener l : contextListeners) {
            l.detach(old);
        }
        context = ctx;
        drv.attachContext(ctx);
        for (ContextListener l : contextListeners) {
            l.attach(ctx);
        }
    }

    /** Changes the size after the driver resized (block_resize). */
    @GlobalState
    void sizeChanged() {
        size = drv.size();
    }

    /** Polls until none of {@code nodes} has a request in flight (used by {@link Drained}). */
    @GlobalState
    static void waitIdle(AioContext ctx, List<BlockNode> nodes) {
        AioWait.waitWhile(ctx, () -> {
            for (BlockNode n : nodes) {
                if (n.inFlight() > 0) {
                    return true;
                }
            }
            return false;
        });
    }

    @Override
    public String toString() {
        return "BlockNode[" + nodeName + ", " + drv.driverName() + "]";
    }
}
