package qmpd.aio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import qmpd.aio.nativeio.ErrnoException;
import qmpd.aio.nativeio.LinuxSyscalls;

/**
 * One context's epoll instance and its fd handlers (QEMU's aio_handlers list plus fdmon-epoll).
 *
 * <p>Home thread or acquirer only (the context lock guards every field). Re-entrancy: each poll()
 * nesting level owns an epoll_wait buffer and a ready copy; {@link #collectReady} resolves fds to
 * handlers before any callback runs, and {@link #dispatch} skips handlers removed meanwhile.
 */
final class FdTable {
    static final int MAX_EVENTS = 128;

    private final int epfd;
    private final Arena arena = Arena.ofShared();
    private FdHandler[] byFd = new FdHandler[64];
    /** Handlers with an ioPoll hook; copied on change, so a hook may add or remove handlers. */
    private FdHandler[] pollHandlers = new FdHandler[0];
    /**
     * Installed handlers that cannot be busy-polled (no ioPoll hook; the context's own notifier
     * aside): QEMU's poll_disable_cnt. While one exists, spinning could not see its fd become
     * ready, so the loop goes straight to epoll_wait.
     */
    private int unpollable;
    private MemorySegment[] eventBufs = new MemorySegment[0];
    private FdHandler[][] readyHandlers = new FdHandler[0][];
    private int[][] readyEvents = new int[0][];

    FdTable() {
        epfd = LinuxSyscalls.epollCreate();
    }

    FdHandler handlerOf(int fd) {
        return fd < byFd.length ? byFd[fd] : null;
    }

    /** Installs {@code h}, replacing (and marking removed) the fd's previous handler. */
    void install(FdHandler h) {
        int fd = h.fd();
        if (fd >= byFd.length) byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        FdHandler old = byFd[fd];
        int op = old != null && old.inEpoll ? LinuxSyscalls.EPOLL_CTL_MOD : LinuxSyscalls.EPOLL_CTL_ADD;
        LinuxSyscalls.epollCtl(epfd, op, fd, interestOf(h.wantRead, h.wantWrite));
        if (old != null && !old.removed && unpollable(old)) unpollable--;
        if (unpollable(h)) unpollable++;
        if (old != null) old.removed = true;
        h.inEpoll = true;
        byFd[fd] = h;
        if (old != null && old.ioPoll != null || h.ioPoll != null) rebuildPollHandlers();
    }

    void setInterest(FdHandler h, boolean read, boolean write) {
        if (h.removed) throw new IllegalStateException(h + " was removed");
        if (h.wantRead == read && h.wantWrite == write && h.inEpoll == (read || write)) {
            return;   // unchanged: no epoll_ctl (callers re-assert their interest after every batch)
        }
        h.wantRead = read;
        h.wantWrite = write;
        if (!read && !write) {
            if (h.inEpoll) LinuxSyscalls.epollCtl(epfd, LinuxSyscalls.EPOLL_CTL_DEL, h.fd(), 0);
            h.inEpoll = false;
        } else {
            int op = h.inEpoll ? LinuxSyscalls.EPOLL_CTL_MOD : LinuxSyscalls.EPOLL_CTL_ADD;
            LinuxSyscalls.epollCtl(epfd, op, h.fd(), interestOf(read, write));
            h.inEpoll = true;
        }
    }

    void remove(FdHandler h) {
        if (h.removed) return;
        if (unpollable(h)) unpollable--;
        h.removed = true;   // levels still holding it in their ready copy skip it
        int fd = h.fd();
        if (byFd[fd] == h) byFd[fd] = null;
        if (h.inEpoll) {
            h.inEpoll = false;
            try {
                LinuxSyscalls.epollCtl(epfd, LinuxSyscalls.EPOLL_CTL_DEL, fd, 0);
            } catch (ErrnoException e) {
                // EBADF/ENOENT: the owner closed the fd first, which already took it out of epoll
            }
        }
        if (h.ioPoll != null) rebuildPollHandlers();
    }

    private static boolean unpollable(FdHandler h) {
        return h.ioPoll == null && !h.internal;
    }

    /** Whether busy polling is disabled by a handler without an ioPoll hook (QEMU aio_poll_disabled). */
    boolean pollDisabled() {
        return unpollable > 0;
    }

    private static int interestOf(boolean read, boolean write) {
        return (read ? LinuxSyscalls.EPOLLIN : 0) | (write ? LinuxSyscalls.EPOLLOUT : 0);
    }

    private void rebuildPollHandlers() {
        List<FdHandler> list = new ArrayList<>();
        for (FdHandler h : byFd) {
            if (h != null && h.ioPoll != null) list.add(h);
        }
        pollHandlers = list.toArray(new FdHandler[0]);
    }

    /** The busy-poll hooks, for QEMU's run_poll_handlers_once. */
    FdHandler[] pollHandlers() {
        return pollHandlers;
    }

    /** epoll_wait into this level's own buffer (timeout -1: forever); returns the number of ready fds. */
    int waitEvents(int level, long timeoutNs) {
        if (level >= eventBufs.length) growLevels(level + 1);
        return LinuxSyscalls.epollWaitNs(epfd, eventBufs[level], MAX_EVENTS, timeoutNs);
    }

    private void growLevels(int levels) {
        int from = eventBufs.length;
        eventBufs = Arrays.copyOf(eventBufs, levels);
        readyHandlers = Arrays.copyOf(readyHandlers, levels);
        readyEvents = Arrays.copyOf(readyEvents, levels);
        for (int i = from; i < levels; i++) {
            eventBufs[i] = arena.allocate(MAX_EVENTS * LinuxSyscalls.EPOLL_EVENT_SIZE, 8);
            readyHandlers[i] = new FdHandler[MAX_EVENTS];
            readyEvents[i] = new int[MAX_EVENTS];
        }
    }

    /** Resolves this level's epoll results to handlers before any callback can change the table. */
    int collectReady(int level, int n) {
        MemorySegment events = eventBufs[level];
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

    /** Runs the callbacks of this level's ready handlers; returns whether a non-internal one ran. */
    boolean dispatch(AioContext ctx, int level, int ready) {
        FdHandler[] hs = readyHandlers[level];
        int[] evs = readyEvents[level];
        boolean progress = false;
        for (int i = 0; i < ready; i++) {
            FdHandler h = hs[i];
            hs[i] = null;
            int ev = evs[i];
            boolean ran = false;
            if (!h.removed && h.wantRead && (ev & (LinuxSyscalls.EPOLLIN | LinuxSyscalls.EPOLLHUP | LinuxSyscalls.EPOLLERR)) != 0) {
                ctx.runCallback(h.onReadable, h);
                ran = true;
            }
            if (!h.removed && h.wantWrite && (ev & (LinuxSyscalls.EPOLLOUT | LinuxSyscalls.EPOLLHUP | LinuxSyscalls.EPOLLERR)) != 0) {
                ctx.runCallback(h.onWritable, h);
                ran = true;
            }
            if (ran && !h.internal) {
                progress = true;
                ctx.countFdEvent(h.notifier);
            }
        }
        return progress;
    }

    /** Forgets every handler and frees the epoll instance; the fds stay with their owners. */
    void close() {
        Arrays.fill(byFd, null);
        pollHandlers = new FdHandler[0];
        unpollable = 0;
        LinuxSyscalls.close(epfd);
        arena.close();
    }
}
