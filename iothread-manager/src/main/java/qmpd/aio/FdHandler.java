package qmpd.aio;

import java.util.function.BooleanSupplier;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;

/**
 * One fd watched by a context's epoll instance (level-triggered), with its callbacks.
 *
 * <p>Callbacks run in the home thread. Because poll() may nest, a handler can be called again
 * while the fd is no longer ready (an inner level consumed the data first): handlers must treat
 * EAGAIN as "nothing to do", as QEMU's do. A handler removed during a dispatch is marked removed
 * and skipped by every level that still holds it in its ready copy (QEMU's deleted-handler list).
 */
public final class FdHandler {
    private final AioContext context;
    private final int fd;
    final Runnable onReadable;
    final Runnable onWritable;
    /** The busy-poll hook: returns true if it found (and handled) work; null if the fd cannot be polled. */
    final BooleanSupplier ioPoll;
    /** Counted as an event-notifier rather than an fd event. */
    final boolean notifier;
    /** The context's own wake-up notifier: not progress, not counted. */
    final boolean internal;
    /** Home thread (or acquirer) only. */
    boolean wantRead;
    boolean wantWrite;
    boolean inEpoll;
    boolean removed;

    FdHandler(AioContext context, int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier ioPoll,
              boolean notifier, boolean internal) {
        this.context = context;
        this.fd = fd;
        this.onReadable = onReadable;
        this.onWritable = onWritable;
        this.ioPoll = ioPoll;
        this.notifier = notifier;
        this.internal = internal;
        this.wantRead = onReadable != null;
        this.wantWrite = onWritable != null;
    }

    @AnyThread
    public int fd() {
        return fd;
    }

    @AnyThread
    public AioContext context() {
        return context;
    }

    /**
     * Changes which readiness the handler waits for; each enabled side needs its callback. With
     * both off, the fd leaves epoll (hang-ups are not reported) but the handler stays set.
     */
    @HomeThread
    public void setInterest(boolean readable, boolean writable) {
        if (readable && onReadable == null) throw new IllegalArgumentException("no readable callback");
        if (writable && onWritable == null) throw new IllegalArgumentException("no writable callback");
        context.fdSetInterest(this, readable, writable);
    }

    /** Stops watching the fd; the fd itself stays open (its owner closes it). Idempotent. */
    @HomeThread
    public void remove() {
        context.fdRemove(this);
    }

    @HomeThread
    public boolean isRemoved() {
        return removed;
    }

    @HomeThread
    public boolean isReadable() {
        return wantRead;
    }

    @HomeThread
    public boolean isWritable() {
        return wantWrite;
    }

    @Override
    public String toString() {
        return "FdHandler[fd " + fd + (removed ? ", removed]" : "]");
    }
}
