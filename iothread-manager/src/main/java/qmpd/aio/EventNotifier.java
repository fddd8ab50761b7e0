package qmpd.aio;

import java.util.concurrent.atomic.AtomicBoolean;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.nativeio.LinuxSyscalls;

/**
 * A cross-thread doorbell over a non-blocking eventfd (QEMU util/event_notifier-posix.c). Any
 * number of {@link #set} calls before the reader's {@link #testAndClear} coalesce into one event.
 * Watch it with {@link AioContext#setEventNotifier}; the handler calls testAndClear() itself.
 * The fd can be handed to another process (vhost-user kick/call).
 */
public final class EventNotifier implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EventNotifier(int fd) {
        this.fd = fd;
    }

    /** A new eventfd (EFD_NONBLOCK | EFD_CLOEXEC), initially clear. */
    @AnyThread
    public static EventNotifier create() {
        return new EventNotifier(LinuxSyscalls.eventfd());
    }

    @AnyThread
    public int fd() {
        return fd;
    }

    /** Signals the notifier: one write(2) of 1. */
    @AnyThread
    public void set() {
        LinuxSyscalls.eventfdWrite(fd, 1);
    }

    /** Clears the notifier; returns whether it was set. */
    @AnyThread
    public boolean testAndClear() {
        return LinuxSyscalls.eventfdRead(fd) != 0;
    }

    /** Closes the eventfd; remove any handler watching it first. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) LinuxSyscalls.close(fd);
    }
}
