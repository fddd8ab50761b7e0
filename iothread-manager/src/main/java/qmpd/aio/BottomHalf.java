package qmpd.aio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import qmpd.aio.annotation.AnyThread;

/**
 * A deferred callback that runs in its context's home thread: "a timer that expires as soon as
 * possible" (QEMU util/async.c). A reusable BottomHalf from {@link AioContext#bhNew} is scheduled
 * any number of times and must be {@link #delete deleted}: closing its context with it still
 * registered fails by its name, like QEMU's aio_ctx_finalize(). One-shot BHs come from
 * {@link AioContext#runOnce} and free themselves.
 *
 * <p>{@link #schedule} is lock-free, allocation-free and callable from any thread; it wakes the
 * loop only if the loop is about to block.
 */
public final class BottomHalf extends BhNode {
    /** Queued in the context's BhQueue: set by the first schedule(), cleared by the home thread when popped. */
    static final int PENDING = 1;
    /** Should run when popped; schedule() sets it, cancel() clears it. */
    static final int SCHEDULED = 2;
    /** delete() was called: never runs again. */
    static final int DELETED = 4;
    /** Created by runOnce(): not registered, nothing to delete. */
    static final int ONESHOT = 8;

    private static final VarHandle FLAGS;

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(BottomHalf.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final AioContext context;
    private final String name;
    final Runnable callback;
    /** PENDING | SCHEDULED | DELETED | ONESHOT; updated atomically from any thread. */
    @SuppressWarnings("unused")
    private volatile int flags;

    BottomHalf(AioContext context, String name, Runnable callback, int initialFlags) {
        this.context = context;
        this.name = Objects.requireNonNull(name, "name");
        this.callback = Objects.requireNonNull(callback, "callback");
        this.flags = initialFlags;
    }

    /** The debug name (reported on leaks and in exceptions). */
    @AnyThread
    public String name() {
        return name;
    }

    /** The context whose home thread runs this BH. */
    @AnyThread
    public AioContext context() {
        return context;
    }

    /**
     * Runs the callback once in the home thread, after the BHs already queued (FIFO). Idempotent
     * while pending; a callback may re-schedule its own BH. Never allocates.
     *
     * @throws IllegalStateException if the BH was deleted
     */
    @AnyThread
    public void schedule() {
        int old = (int) FLAGS.getAndBitwiseOr(this, PENDING | SCHEDULED);
        if ((old & DELETED) != 0) {
            throw new IllegalStateException("BH '" + name + "' scheduled after delete()");
        }
        if ((old & PENDING) == 0) {
            context.enqueue(this);
        }
    }

    /** Withdraws a pending schedule; the callback will not run for it (QEMU qemu_bh_cancel). */
    @AnyThread
    public void cancel() {
        FLAGS.getAndBitwiseAnd(this, ~SCHEDULED);
    }

    /** Cancels and unregisters this BH for good; it may be still queued, and then is skipped. */
    @AnyThread
    public void delete() {
        int old = (int) FLAGS.getAndBitwiseOr(this, DELETED);
        FLAGS.getAndBitwiseAnd(this, ~SCHEDULED);
        if ((old & (DELETED | ONESHOT)) == 0) {
            context.unregister(this);
        }
    }

    /** Whether the callback will run (scheduled and not cancelled). */
    @AnyThread
    public boolean isScheduled() {
        return (flags & (SCHEDULED | DELETED)) == SCHEDULED;
    }

    /** Whether delete() was called. */
    @AnyThread
    public boolean isDeleted() {
        return (flags & DELETED) != 0;
    }

    /**
     * Home thread, right after pop(): clears PENDING and SCHEDULED and returns the old flags. A
     * schedule() racing with this either set SCHEDULED before (the callback runs now) or finds
     * PENDING clear after (it queues the BH again): no schedule is lost.
     */
    int takeForRun() {
        return (int) FLAGS.getAndBitwiseAnd(this, ~(PENDING | SCHEDULED));
    }

    @Override
    public String toString() {
        return "BottomHalf[" + name + "]";
    }
}
