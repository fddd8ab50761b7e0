package qmpd.block.driver.file;

import qmpd.aio.AioContext;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.annotation.WorkerThread;
import qmpd.aio.pool.ThreadPool;
import qmpd.block.BlockDriverState;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.block.Errno;
import qmpd.block.Support;
import qmpd.config.error.QmpException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One open file node. Every system call runs on a worker of the node's context's pool, and the
 * completion comes back to the home thread by the pool's completion BH (seed 000's threadlets).
 *
 * <p>Thread ownership: {@code channel} is shared by workers (positional I/O on one FileChannel is
 * safe concurrently; a worker is never interrupted, which would close it for everyone);
 * {@code size} is written by workers only under the main loop's drained resize, read anywhere
 * (volatile); {@code rmwLock} orders O_DIRECT read-modify-write cycles against other writes.
 */
final class FileState implements BlockDriverState {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileState.class);

    private final Path path;
    private final FileChannel channel;
    private final int alignment;
    private final boolean noFlush;
    private final boolean readOnly;
    private volatile long size;
    /** SEEK_DATA/SEEK_HOLE queries; null when unavailable, then everything is reported as data. */
    private final Allocation allocation;
    /** discard=unmap: discards punch holes; otherwise they are ignored, as QEMU's default discard=ignore. */
    private final boolean discardUnmap;
    /** Our own descriptor: image locks (held while open) and hole punching; null if it could not open. */
    private final HostFile host;

    /** O_DIRECT only: aligned writes share it, an unaligned write's read-modify-write holds it alone. */
    private final ReentrantReadWriteLock rmwLock = new ReentrantReadWriteLock();

    FileState(Path path, FileChannel channel, int alignment, boolean noFlush, boolean readOnly, boolean discardUnmap,
              HostFile host) throws IOException {
        this.path = path;
        this.discardUnmap = discardUnmap;
        this.host = host;
        this.channel = channel;
        this.alignment = alignment;
        this.noFlush = noFlush;
        this.readOnly = readOnly;
        this.size = channel.size();
        this.allocation = Allocation.open(path);
    }

    @Override
    public String driverName() {
        return "file";
    }

    @Override
    public String filename() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int requestAlignment() {
        return alignment;
    }

    @Override
    public Support writeZeroes() {
        return Support.EMULATE;
    }

    @Override
    public Support discard() {
        return discardUnmap && host != null && !readOnly ? Support.NATIVE : Support.NONE;
    }

    @Override
    public Support blockStatus() {
        return allocation == null ? Support.EMULATE : Support.NATIVE;
    }

    @HomeThread
    @Override
    public void submit(BlockRequest req) {
        AioContext ctx = AioContext.current();
        if (req.op() == BlockOp.BLOCK_STATUS) {
            long offset = req.offset();
            long length = req.length();
            long fileSize = size;
            ThreadPool.of(ctx).submit("file-block-status", () -> allocation.at(offset, length, fileSize)).result()
                    .whenComplete((x, e) -> {
                        // Back home: the request is only touched here. A hole reads as zeroes.
                        if (e != null) {
                            req.setStatus(length, BlockRequest.STATUS_DATA);
                        } else {
                            req.setStatus(x.length(), x.data() ? BlockRequest.STATUS_DATA : BlockRequest.STATUS_ZERO);
                        }
                        req.complete(0);
                    });
            return;
        }
        Callable<Integer> work = switch (req.op()) {
            case READ -> () -> read(req.buffer().duplicate(), req.offset(), req.length());
            case WRITE -> () -> write(req.buffer().duplicate(), req.offset(), req.length());
            case FLUSH -> this::flush;
            case DISCARD -> () -> discard(req.offset(), req.length());
            default -> null;
        };
        if (work == null) {
            req.complete(-Errno.ENOTSUP);
            return;
        }
        ThreadPool.of(ctx).submit("file-" + req.op().name().toLowerCase(), work).result()
                .whenComplete((r, e) -> req.complete(e == null ? r : -Errno.of(unwrap(e))));
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** fallocate(PUNCH_HOLE); a file system that cannot punch makes discard a no-op, as in QEMU. */
    @WorkerThread
    private int discard(long offset, int length) {
        assert AioContext.current() == null : "discard on an event loop thread";
        int r = host.punchHole(offset, length);
        return r == -Errno.ENOTSUP ? 0 : r;   // EOPNOTSUPP is the same number on Linux
    }

    @WorkerThread
    private int read(ByteBuffer dst, long offset, int length) throws IOException {
        assert AioContext.current() == null : "file read on an event loop thread";
        dst.limit(dst.position() + length);
        if (alignment > 1 && !aligned(dst, offset, length)) {
            return readBounced(dst, offset, length);
        }
        int done = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset + done);
            if (n < 0) {
                // Past the end of the file (it shrank, or a device): reads as zeroes, as QEMU does.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                break;
            }
            done += n;
        }
        return length;
    }

    @WorkerThread
    private int write(ByteBuffer src, long offset, int length) throws IOException {
        assert AioContext.current() == null : "file write on an event loop thread";
        src.limit(src.position() + length);
        if (alignment > 1) {
            if (!aligned(src, offset, length)) {
                return writeReadModifyWrite(src, offset, length);
            }
            rmwLock.readLock().lock();
            try {
                writeFully(src, offset);
            } finally {
                rmwLock.readLock().unlock();
            }
        } else {
            writeFully(src, offset);
        }
        return length;
    }

    private void writeFully(ByteBuffer src, long offset) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @WorkerThread
    private int flush() throws IOException {
        assert AioContext.current() == null : "fdatasync on an event loop thread";
        if (!noFlush && !readOnly) {
            channel.force(false);
        }
        return 0;
    }

    private boolean aligned(ByteBuffer b, long offset, int length) {
        return offset % alignment == 0 && length % alignment == 0 && b.isDirect()
                && b.alignmentOffset(b.position(), alignment) == 0;
    }

    private ByteBuffer bounce(long start, long end) {
        return ByteBuffer.allocateDirect((int) (end - start) + alignment).alignedSlice(alignment)
                .limit((int) (end - start));
    }

    /** O_DIRECT read of an unaligned range: read the aligned cover into a bounce buffer, copy out. */
    private int readBounced(ByteBuffer dst, long offset, int length) throws IOException {
        long start = offset - offset % alignment;
        long end = roundUp(offset + length);
        ByteBuffer b = bounce(start, end);
        int got = 0;
        while (b.hasRemaining()) {
            int n = channel.read(b, start + got);
            if (n <= 0) {
                break;
            }
            got += n;
        }
        while (b.hasRemaining()) {
            b.put((byte) 0);
        }
        dst.put(b.flip().position((int) (offset - start)).limit((int) (offset - start) + length));
        return length;
    }

    /** O_DIRECT write of an unaligned range: read the cover, patch it, write it back, alone. */
    private int writeReadModifyWrite(ByteBuffer src, long offset, int length) throws IOException {
        long start = offset - offset % alignment;
        long end = roundUp(offset + length);
        rmwLock.writeLock().lock();
        try {
            ByteBuffer b = bounce(start, end);
            int got = 0;
            while (b.hasRemaining() && start + got < channel.size()) {
                int n = channel.read(b, start + got);
                if (n <= 0) {
                    break;
                }
                got += n;
            }
            while (b.hasRemaining()) {
                b.put((byte) 0);
            }
            b.clear().limit((int) (end - start));
            b.put((int) (offset - start), src, src.position(), length);
            long fileSize = channel.size();
            writeFully(b, start);
            if (end > fileSize && offset + length <= fileSize) {
                channel.truncate(fileSize);   // the cover ran past the end; keep the file's size
            }
        } finally {
            rmwLock.writeLock().unlock();
        }
        return length;
    }

    private long roundUp(long v) {
        return (v + alignment - 1) / alignment * alignment;
    }

    /** Resizes the file; called by the main loop inside a drained section, so no I/O runs. */
    @Override
    public void truncate(long newSize) {
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(newSize);
            size = newSize;
        } catch (IOException e) {
            throw new QmpException.GenericError("Could not resize file: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        // QEMU's bdrv_close flushes: what clients wrote without asking for FUA or flush reaches the
        // disk before the image is let go. The node is drained, so this is the last I/O; it runs in
        // the main loop at blockdev-del and shutdown only.
        if (!readOnly && !noFlush) {
            try {
                channel.force(false);
            } catch (IOException e) {
                LOG.warn("event=file-close-flush-failed path={} error=\"{}\"", path, e.getMessage());
            }
        }
        if (host != null) {
            host.close();   // drops the image locks
        }
        if (allocation != null) {
            allocation.close();
        }
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing is lost: every acknowledged write was flushed or was not asked to be stable.
        }
    }
}
