package qmpd.aio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The context's bottom-half queue: D. Vyukov's intrusive multi-producer single-consumer queue.
 *
 * <p>Why not {@code ConcurrentLinkedQueue}: it allocates a node per offer, and a reusable
 * BottomHalf must schedule without allocating. Here the BottomHalf is its own node (it can be
 * queued at most once, which its PENDING flag guarantees), a push is one atomic exchange, and a
 * pop takes no atomic at all. FIFO is linearizable, so BHs from one producer run in order.
 *
 * <p>{@link #push} is thread-safe; {@link #pop} and {@link #isEmpty} belong to the home thread.
 * A producer stalled between its exchange and its link makes pop return null transiently;
 * {@link #isEmpty} still says false then, so the loop does not block on a half-pushed node.
 */
final class BhQueue {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(BhQueue.class, "head", BhNode.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final BhNode stub = new BhNode();
    /** The most recently pushed node; exchanged by producers. */
    @SuppressWarnings("unused")
    private volatile BhNode head = stub;
    /** The oldest node not yet popped; home thread only. */
    private BhNode tail = stub;

    /** Appends {@code n}; any thread. Full fence (the exchange). */
    void push(BhNode n) {
        n.next = null;
        BhNode prev = (BhNode) HEAD.getAndSet(this, n);
        prev.next = n;
    }

    /** Removes the oldest node, or returns null if empty or a producer is mid-push. Home thread. */
    BhNode pop() {
        BhNode t = tail;
        BhNode next = t.next;
        if (t == stub) {
            if (next == null) return null;
            tail = next;
            t = next;
            next = next.next;
        }
        if (next != null) {
            tail = next;
            return t;
        }
        if (t != head) return null;   // a producer exchanged head but has not linked yet
        push(stub);
        next = t.next;
        if (next != null) {
            tail = next;
            return t;
        }
        return null;
    }

    /** True when nothing is queued, not even half-pushed. Home thread; reads head (volatile). */
    boolean isEmpty() {
        return tail == stub && head == stub;
    }
}
