package qmpd.aio.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux system calls the event loop needs (epoll, eventfd, read/write/close, gettid),
 * bound through the FFM API; errno comes from {@code Linker.Option.captureCallState("errno")}.
 *
 * <p>Why not {@code java.nio.channels.Selector}: a Selector accepts only {@code SelectableChannel}s,
 * so raw fds (eventfds, vhost-user kick/call fds) can never join it; and Netty's loops cannot be
 * polled re-entrantly (their ready-key arrays are shared between nesting levels), while QEMU's
 * waits poll inside callbacks. So each AioContext owns an epoll instance driven from here.
 *
 * <p>All methods are thread-safe. Each calling thread gets a small scratch segment (errno state
 * and an 8-byte buffer) so the common calls allocate nothing.
 */
public final class LinuxSyscalls {
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;

    /** struct epoll_event is packed on x86_64 (12 bytes) and naturally aligned elsewhere (16). */
    public static final long EPOLL_EVENT_SIZE;
    private static final long EPOLL_DATA_OFFSET;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle EPOLL_CREATE1 = bind("epoll_create1", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle EPOLL_CTL = bind("epoll_ctl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle EPOLL_WAIT = bind("epoll_wait", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle READ = bind("read", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle WRITE = bind("write", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle GETTID = bind("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));

    static {
        String arch = System.getProperty("os.arch");
        boolean packed = arch.equals("amd64") || arch.equals("x86_64");
        EPOLL_EVENT_SIZE = packed ? 12 : 16;
        EPOLL_DATA_OFFSET = packed ? 4 : 8;
    }

    /** Per-thread errno capture state plus a 16-byte buffer (eventfd counter, one epoll_event). */
    private record Scratch(MemorySegment state, MemorySegment buf) {}

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> {
        Arena arena = Arena.ofAuto();
        return new Scratch(arena.allocate(CAPTURE), arena.allocate(16, 8));
    });

    private LinuxSyscalls() {}

    private static MethodHandle bind(String name, FunctionDescriptor fd) {
        MemorySegment addr = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"));
    }

    private static int errno(Scratch s) {
        return (int) ERRNO.get(s.state(), 0L);
    }

    private static ErrnoException fail(String call, Scratch s) {
        return new ErrnoException(call, errno(s));
    }

    /** epoll_create1(EPOLL_CLOEXEC). */
    public static int epollCreate() {
        Scratch s = SCRATCH.get();
        try {
            int fd = (int) EPOLL_CREATE1.invokeExact(s.state(), EPOLL_CLOEXEC);
            if (fd < 0) throw fail("epoll_create1", s);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** epoll_ctl(epfd, op, fd, {events, data = fd}). */
    public static void epollCtl(int epfd, int op, int fd, int events) {
        Scratch s = SCRATCH.get();
        MemorySegment ev = s.buf();
        ev.set(ValueLayout.JAVA_INT, 0, events);
        ev.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, fd);
        try {
            int r = (int) EPOLL_CTL.invokeExact(s.state(), epfd, op, fd, ev);
            if (r < 0) throw fail("epoll_ctl(" + op + ", fd " + fd + ")", s);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * epoll_wait into {@code events} (room for {@code max} epoll_events). Returns the number of ready
     * fds; 0 on timeout or EINTR.
     */
    public static int epollWait(int epfd, MemorySegment events, int max, int timeoutMs) {
        Scratch s = SCRATCH.get();
        try {
            int n = (int) EPOLL_WAIT.invokeExact(s.state(), epfd, events, max, timeoutMs);
            if (n < 0) {
                if (errno(s) == EINTR) return 0;
                throw fail("epoll_wait", s);
            }
            return n;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The event mask of the i-th entry of an epoll_wait result. */
    public static int epollEvents(MemorySegment events, int i) {
        return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EPOLL_EVENT_SIZE);
    }

    /** The fd stored in the data member of the i-th entry of an epoll_wait result. */
    public static int epollFd(MemorySegment events, int i) {
        return (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
    }

    /** eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC). */
    public static int eventfd() {
        Scratch s = SCRATCH.get();
        try {
            int fd = (int) EVENTFD.invokeExact(s.state(), 0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd < 0) throw fail("eventfd", s);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Adds {@code value} to an eventfd counter; EAGAIN (counter saturated) is ignored, it is already set. */
    public static void eventfdWrite(int fd, long value) {
        Scratch s = SCRATCH.get();
        s.buf().set(ValueLayout.JAVA_LONG, 0, value);
        try {
            long r = (long) WRITE.invokeExact(s.state(), fd, s.buf(), 8L);
            if (r < 0 && errno(s) != EAGAIN) throw fail("write(eventfd)", s);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Reads and resets a non-blocking eventfd counter; returns 0 if it was not set. */
    public static long eventfdRead(int fd) {
        Scratch s = SCRATCH.get();
        try {
            long r = (long) READ.invokeExact(s.state(), fd, s.buf(), 8L);
            if (r < 0) {
                if (errno(s) == EAGAIN) return 0;
                throw fail("read(eventfd)", s);
            }
            return s.buf().get(ValueLayout.JAVA_LONG, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** close(fd); errors are reported, EINTR included (Linux closes the fd anyway). */
    public static void close(int fd) {
        Scratch s = SCRATCH.get();
        try {
            int r = (int) CLOSE.invokeExact(s.state(), fd);
            if (r < 0 && errno(s) != EINTR) throw fail("close(" + fd + ")", s);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The calling thread's kernel thread id (what query-iothreads reports as thread-id). */
    public static int gettid() {
        Scratch s = SCRATCH.get();
        try {
            return (int) GETTID.invokeExact(s.state());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
