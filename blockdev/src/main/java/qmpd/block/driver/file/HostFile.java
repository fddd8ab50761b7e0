package qmpd.block.driver.file;

import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.WorkerThread;
import qmpd.block.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The calls on an image file the JDK does not offer, on a descriptor of its own: hole punching
 * for discard (fallocate PUNCH_HOLE, QEMU file-posix.c handle_aiocb_discard) and QEMU's image
 * locks (open file description locks on bytes 100+n and 200+n, file-posix.c
 * raw_apply_lock_bytes / raw_check_lock_bytes), so that qmpd and QEMU refuse each other's
 * conflicting use of one image. The locks live as long as this descriptor is open.
 */
final class HostFile implements AutoCloseable {

    /** QEMU's permission bits, in bit order, with the names its lock errors use. */
    static final String[] PERM_NAMES = {"consistent read", "write", "write unchanged", "resize"};
    static final int PERM_CONSISTENT_READ = 1;
    static final int PERM_WRITE = 2;
    static final int PERM_WRITE_UNCHANGED = 4;
    static final int PERM_RESIZE = 8;
    static final int PERM_ALL = 0xf;
    private static final int LOCK_BASE_PERM = 100;
    private static final int LOCK_BASE_SHARED = 200;

    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;

    /** struct flock on x86-64 and aarch64 Linux. */
    private static final StructLayout FLOCK = MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("l_type"), ValueLayout.JAVA_SHORT.withName("l_whence"),
            MemoryLayout.paddingLayout(4), ValueLayout.JAVA_LONG.withName("l_start"),
            ValueLayout.JAVA_LONG.withName("l_len"), ValueLayout.JAVA_INT.withName("l_pid"),
            MemoryLayout.paddingLayout(4));
    private static final VarHandle L_TYPE = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_type"));
    private static final VarHandle L_START = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_start"));
    private static final VarHandle L_LEN = FLOCK.varHandle(MemoryLayout.PathElement.groupElement("l_len"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL = LINKER.downcallHandle(LINKER.defaultLookup().find("fcntl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FALLOCATE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("fallocate").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** A lock conflict (QEMU's message, naming the permission), or OFD locks not working here. */
    static final class LockConflict extends Exception {
        /** False when the file system refused the lock calls themselves (locking=auto then goes without). */
        final boolean conflict;

        LockConflict(String message, boolean conflict) {
            super(message, null, false, false);
            this.conflict = conflict;
        }

        LockConflict(String message) {
            this(message, true);
        }
    }

    private final int fd;

    private HostFile(int fd) {
        this.fd = fd;
    }

    /** Opens a descriptor of its own on {@code path}; null if that fails (the caller reports its own open). */
    static HostFile open(Path path, boolean writable) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path.toString()),
                    (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
            return fd < 0 ? null : new HostFile(fd);
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * QEMU's raw_check_lock_bytes then raw_apply_lock_bytes: refuses if another holder has
     * unshared a permission we take, or holds one we do not share; else takes shared locks on
     * the bytes of our permissions (100+n) and of those we do not share (200+n).
     */
    @GlobalState
    void lock(int perm, int shared) throws LockConflict {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl = a.allocate(FLOCK);
            MemorySegment state = a.allocate(CAPTURE);
            for (int i = 0; i < PERM_NAMES.length; i++) {
                if ((perm & (1 << i)) != 0 && lockedByOthers(fl, state, LOCK_BASE_SHARED + i)) {
                    throw new LockConflict("Failed to get \"" + PERM_NAMES[i] + "\" lock");
                }
            }
            for (int i = 0; i < PERM_NAMES.length; i++) {
                if ((shared & (1 << i)) == 0 && lockedByOthers(fl, state, LOCK_BASE_PERM + i)) {
                    throw new LockConflict("Failed to get shared \"" + PERM_NAMES[i] + "\" lock");
                }
            }
            for (int i = 0; i < PERM_NAMES.length; i++) {
                if ((perm & (1 << i)) != 0) {
                    setLock(fl, state, LOCK_BASE_PERM + i);
                }
                if ((shared & (1 << i)) == 0) {
                    setLock(fl, state, LOCK_BASE_SHARED + i);
                }
            }
        }
    }

    private boolean lockedByOthers(MemorySegment fl, MemorySegment state, long offset) throws LockConflict {
        fill(fl, F_WRLCK, offset);
        int r = fcntl(fl, state, F_OFD_GETLK);
        if (r < 0) {
            throw new LockConflict("Failed to get lock byte " + offset + ": errno " + (int) ERRNO.get(state, 0L), false);
        }
        return (short) L_TYPE.get(fl, 0L) != F_UNLCK;
    }

    private void setLock(MemorySegment fl, MemorySegment state, long offset) throws LockConflict {
        fill(fl, F_RDLCK, offset);
        if (fcntl(fl, state, F_OFD_SETLK) < 0) {
            // Someone took a conflicting lock between our check and now.
            throw new LockConflict("Failed to lock byte " + offset);
        }
    }

    private static void fill(MemorySegment fl, short type, long offset) {
        fl.fill((byte) 0);
        L_TYPE.set(fl, 0L, type);
        L_START.set(fl, 0L, offset);
        L_LEN.set(fl, 0L, 1L);
    }

    private int fcntl(MemorySegment fl, MemorySegment state, int cmd) {
        try {
            return (int) FCNTL.invokeExact(state, fd, cmd, fl);
        } catch (Throwable t) {
            return -1;
        }
    }

    /**
     * Deallocates {@code length} bytes at {@code offset}, keeping the size; reads there return
     * zeroes afterwards. Returns 0, or a negative errno (-ENOTSUP where the file system cannot).
     */
    @WorkerThread
    int punchHole(long offset, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) FALLOCATE.invokeExact(state, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
            return r == 0 ? 0 : -(int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            return -Errno.EIO;
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: the descriptor (and its locks) are gone either way
        }
    }
}
