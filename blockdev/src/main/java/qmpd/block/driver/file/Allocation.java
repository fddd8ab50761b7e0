package qmpd.block.driver.file;

import qmpd.aio.annotation.WorkerThread;

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
 * Where a file has data and where it has holes, by lseek(SEEK_DATA/SEEK_HOLE) on a descriptor of
 * its own (QEMU file-posix.c find_allocation). The JDK has no such call, hence the downcall.
 * Every query is a system call that may block on the file system: workers only.
 */
final class Allocation implements AutoCloseable {

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle LSEEK = LINKER.downcallHandle(LINKER.defaultLookup().find("lseek").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** One answer: {@code length} bytes from the asked offset are all data, or all hole. */
    record Extent(long length, boolean data) {
    }

    private final int fd;

    private Allocation(int fd) {
        this.fd = fd;
    }

    /** A descriptor for queries on {@code path}, or null if it cannot be opened (then all is data). */
    static Allocation open(Path path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path.toString()), O_RDONLY | O_CLOEXEC);
            return fd < 0 ? null : new Allocation(fd);
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * The extent at {@code offset}, at most {@code length} bytes long, of a file {@code size} bytes
     * long. A file system without SEEK_DATA, or any error, answers "data": never claim a hole
     * that is not one.
     */
    @WorkerThread
    Extent at(long offset, long length, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            long data = (long) LSEEK.invokeExact(state, fd, offset, SEEK_DATA);
            if (data < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                // ENXIO: no data at or after offset, the rest of the file is a hole.
                return errno == ENXIO ? new Extent(length, false) : new Extent(length, true);
            }
            if (data > offset) {
                return new Extent(Math.min(length, data - offset), false);
            }
            long hole = (long) LSEEK.invokeExact(state, fd, offset, SEEK_HOLE);
            if (hole < 0) {
                return new Extent(length, true);
            }
            // Past the end of the file the kernel puts a virtual hole; data runs up to it.
            return new Extent(Math.max(1, Math.min(length, Math.min(hole, Math.max(size, offset + 1)) - offset)), true);
        } catch (Throwable t) {
            return new Extent(length, true);
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: the descriptor is gone either way
        }
    }
}
