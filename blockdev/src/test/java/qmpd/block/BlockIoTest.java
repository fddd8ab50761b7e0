package qmpd.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.pool.ThreadPool;
import qmpd.config.schema.block.BlockdevOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.block.BlockTestSupport.io;
import static qmpd.block.BlockTestSupport.pattern;

/** Data through the graph on real temp files: what is written reads back, at any offset. */
@Timeout(30)
class BlockIoTest extends GraphOnTestThread {

    @Test
    void nullCoReadsZeroesOnlyWhenAskedAndSwallowsWrites() {
        BlockNode zero = graph.add(new BlockdevOptions.NullCo("z", 1 << 20, true, 0, false));
        BlockNode junk = graph.add(new BlockdevOptions.NullCo("j", 1 << 20, false, 0, false));
        ByteBuffer buf = pattern(4096, 7);
        assertEquals(4096, io(ctx, zero, BlockOp.READ, 8192, buf, 4096, 0));
        for (int i = 0; i < 4096; i++) {
            assertEquals(0, buf.get(i));
        }
        ByteBuffer untouched = pattern(4096, 7);
        assertEquals(4096, io(ctx, junk, BlockOp.READ, 0, untouched, 4096, 0));
        assertEquals(pattern(4096, 7), untouched);
        assertEquals(4096, io(ctx, junk, BlockOp.WRITE, 0, pattern(4096, 1), 4096, BlockRequest.FLAG_FUA));
        assertEquals(1, junk.stats().ops(BlockStats.Kind.WRITE));
        assertEquals(4096, junk.stats().bytes(BlockStats.Kind.WRITE));
    }

    @Test
    void fileWritesReadBackUnalignedAndAcrossBlockBoundaries() throws IOException {
        Path p = image(1 << 20);
        BlockNode f = graph.add(BlockdevOptions.File.of("f", p.toString()));
        assertEquals(1 << 20, f.size());
        ByteBuffer data = pattern(5000, 3);
        assertEquals(5000, io(ctx, f, BlockOp.WRITE, 1000, data, 5000, 0));
        ByteBuffer back = ByteBuffer.allocateDirect(7000);
        assertEquals(7000, io(ctx, f, BlockOp.READ, 0, back, 7000, 0));
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, back.get(i), "before the write");
        }
        for (int i = 0; i < 5000; i++) {
            assertEquals(data.get(i), back.get(1000 + i), "byte " + i);
        }
        for (int i = 6000; i < 7000; i++) {
            assertEquals(0, back.get(i), "after the write");
        }
        // The bytes are in the file itself, not only in our path.
        byte[] onDisk = Files.readAllBytes(p);
        assertEquals(data.get(0), onDisk[1000]);
        assertEquals(data.get(4999), onDisk[5999]);
    }

    @Test
    void fileRunsEverySystemCallOnTheWorkerPool() throws IOException {
        BlockNode f = graph.add(BlockdevOptions.File.of("f", image(65536).toString()));
        long before = ThreadPool.of(ctx).stats().completed();
        io(ctx, f, BlockOp.WRITE, 0, pattern(4096, 1), 4096, 0);
        io(ctx, f, BlockOp.READ, 0, ByteBuffer.allocateDirect(4096), 4096, 0);
        io(ctx, f, BlockOp.FLUSH, 0, null, 0, 0);
        // Each of the three went through a worker (the file driver also asserts, with -ea, that
        // no syscall runs where AioContext.current() is set).
        assertEquals(before + 3, ThreadPool.of(ctx).stats().completed());
    }

    @Test
    void directIoHandlesUnalignedReadsAndWrites() throws IOException {
        Path p = image(1 << 20);
        BlockNode f;
        try {
            f = graph.add(new BlockdevOptions.File("d", p.toString(), BlockdevOptions.File.Aio.THREADS, true,
                    false, BlockdevOptions.File.Locking.AUTO, false, false));
        } catch (qmpd.config.error.QmpException e) {
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "O_DIRECT refused here: " + e.getMessage());
            return;
        }
        assertTrue(f.driverState().requestAlignment() >= 512);
        ByteBuffer aligned = ByteBuffer.allocateDirect(8192 + 4096).alignedSlice(4096).limit(8192);
        aligned.put(0, pattern(8192, 9), 0, 8192);
        assertEquals(8192, io(ctx, f, BlockOp.WRITE, 4096, aligned, 8192, 0));
        ByteBuffer odd = pattern(777, 5);
        assertEquals(777, io(ctx, f, BlockOp.WRITE, 4096 + 100, odd, 777, 0));
        ByteBuffer back = ByteBuffer.allocate(10000);
        assertEquals(10000, io(ctx, f, BlockOp.READ, 4000, back, 10000, 0));
        for (int i = 0; i < 10000; i++) {
            long off = 4000 + i;
            byte expect;
            if (off < 4096) {
                expect = 0;
            } else if (off >= 4196 && off < 4196 + 777) {
                expect = odd.get((int) (off - 4196));
            } else if (off < 4096 + 8192) {
                expect = (byte) (9 + (off - 4096) * 31);
            } else {
                expect = 0;
            }
            assertEquals(expect, back.get(i), "offset " + off);
        }
        assertEquals(1 << 20, Files.size(p), "a read-modify-write does not change the file size");
    }

    @Test
    void flushFuaZeroesAndDiscardComplete() throws IOException {
        BlockNode f = graph.add(BlockdevOptions.File.of("f", image(1 << 20).toString()));
        assertEquals(65536, io(ctx, f, BlockOp.WRITE, 0, pattern(65536, 1), 65536, BlockRequest.FLAG_FUA));
        assertEquals(1, f.stats().ops(BlockStats.Kind.WRITE));
        assertEquals(0, io(ctx, f, BlockOp.FLUSH, 0, null, 0, 0));
        assertEquals(1, f.stats().ops(BlockStats.Kind.FLUSH));

        assertEquals(0, io(ctx, f, BlockOp.WRITE_ZEROES, 4096, null, 8192, 0));
        ByteBuffer back = ByteBuffer.allocateDirect(16384);
        io(ctx, f, BlockOp.READ, 0, back, 16384, 0);
        for (int i = 0; i < 16384; i++) {
            byte expect = i >= 4096 && i < 12288 ? 0 : (byte) (1 + i * 31);
            assertEquals(expect, back.get(i), "byte " + i);
        }
        assertEquals(-Errno.ENOTSUP, io(ctx, f, BlockOp.WRITE_ZEROES, 0, null, 4096, BlockRequest.FLAG_NO_FALLBACK));
        assertEquals(0, io(ctx, f, BlockOp.DISCARD, 0, null, 4096, 0));
    }

    @Test
    void requestsOutsideTheNodeOrAgainstReadOnlyFail() throws IOException {
        BlockNode n = graph.add(new BlockdevOptions.NullCo("n", 8192, true, 0, false));
        assertEquals(-Errno.EIO, io(ctx, n, BlockOp.READ, 8192, ByteBuffer.allocate(1), 1, 0));
        assertEquals(-Errno.EIO, io(ctx, n, BlockOp.WRITE, 4096, ByteBuffer.allocate(8192), 8192, 0));
        assertEquals(-Errno.EIO, io(ctx, n, BlockOp.READ, -1, ByteBuffer.allocate(1), 1, 0));
        assertEquals(2, n.stats().invalid(BlockStats.Kind.READ));
        assertEquals(1, n.stats().invalid(BlockStats.Kind.WRITE));
        assertEquals(0, io(ctx, n, BlockOp.READ, 8192, ByteBuffer.allocate(0), 0, 0), "empty read at the end is fine");

        BlockNode ro = graph.add(new BlockdevOptions.File("ro", image(65536).toString(),
                BlockdevOptions.File.Aio.THREADS, false, false, BlockdevOptions.File.Locking.AUTO, false, true));
        assertEquals(-Errno.EPERM, io(ctx, ro, BlockOp.WRITE, 0, pattern(512, 1), 512, 0));
        assertEquals(-Errno.EPERM, io(ctx, ro, BlockOp.WRITE_ZEROES, 0, null, 512, 0));
        assertEquals(512, io(ctx, ro, BlockOp.READ, 0, ByteBuffer.allocate(512), 512, 0));
    }

    @Test
    void rawWindowShiftsRequestsIntoItsChild() throws IOException {
        Path p = image(1 << 20);
        graph.add(BlockdevOptions.File.of("f", p.toString()));
        BlockNode r = graph.add(new BlockdevOptions.Raw("r", "f", null, 65536, 131072L, false));
        assertEquals(131072, r.size());
        assertEquals(4096, io(ctx, r, BlockOp.WRITE, 0, pattern(4096, 4), 4096, 0));
        byte[] onDisk = Files.readAllBytes(p);
        assertEquals(pattern(4096, 4).get(0), onDisk[65536]);
        assertEquals(pattern(4096, 4).get(4095), onDisk[65536 + 4095]);
        assertEquals(-Errno.EIO, io(ctx, r, BlockOp.READ, 131072 - 10, ByteBuffer.allocate(20), 20, 0));
        BlockRequest st = BlockTestSupport.status(ctx, r, 0, 4096);
        assertEquals(0, st.result());
        assertEquals(4096, st.statusLength());
        assertEquals(0, st.offset(), "the caller's offset is restored after the window shift");
    }

    @Test
    void nullBlockStatusReportsZeroWhenReadsAreZero() {
        BlockNode n = graph.add(new BlockdevOptions.NullCo("n", 1 << 20, true, 0, false));
        BlockRequest st = BlockTestSupport.status(ctx, n, 4096, 65536);
        assertEquals(BlockRequest.STATUS_ZERO, st.statusFlags());
        assertEquals(65536, st.statusLength());
    }

    @Test
    void nullAioCompletesThroughTheWorkerPoolInTheHomeThread() {
        BlockNode n = graph.add(new BlockdevOptions.NullAio("na", 1 << 20, true, 0, false));
        long before = ThreadPool.of(ctx).stats().completed();
        Thread[] ranOn = new Thread[1];
        BlockRequest req = new BlockRequest();
        req.set(BlockOp.READ, 0, 512, ByteBuffer.allocate(512), 0, r -> ranOn[0] = Thread.currentThread());
        n.submit(req);
        while (ranOn[0] == null) {
            ctx.poll(true);
        }
        assertEquals(Thread.currentThread(), ranOn[0]);
        assertEquals(512, req.result());
        assertEquals(before + 1, ThreadPool.of(ctx).stats().completed());
    }

    @Test
    void resizeChangesTheFileAndTheRawAboveIt() throws IOException {
        Path p = image(1 << 20);
        graph.add(BlockdevOptions.File.of("f", p.toString()));
        BlockNode r = graph.add(new BlockdevOptions.Raw("r", "f", null, 0, null, false));
        graph.resize(r, 2 << 20);
        assertEquals(2 << 20, Files.size(p));
        assertEquals(2 << 20, r.size());
        assertEquals(2 << 20, graph.require("f").size());
        assertEquals(4096, io(ctx, r, BlockOp.WRITE, (2 << 20) - 4096, pattern(4096, 2), 4096, 0));
    }
}
