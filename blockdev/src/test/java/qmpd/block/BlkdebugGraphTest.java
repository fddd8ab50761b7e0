package qmpd.block;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.aio.AioContext;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlkdebugOptions.InjectError;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.block.BlockTestSupport.io;
import static qmpd.block.BlockTestSupport.pattern;

/** blkdebug in the graph on a real file: where events come from, children, resize and delete. */
@Timeout(30)
class BlkdebugGraphTest {

    @TempDir
    Path dir;

    private AioContext ctx;
    private BlockGraph graph;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        ctx = AioContext.createForCurrentThread("main-test");
        GlobalLock.lock();
        graph = BlockGraph.withBuiltinDrivers(ctx);
        image = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
    }

    @AfterEach
    void tearDown() {
        graph.closeAll();
        GlobalLock.unlock();
        ctx.close();
    }

    private BlockNode blkdebug(String name, List<InjectError> rules) {
        graph.add(BlockdevOptions.File.of(name + "-f", image.toString()));
        return graph.add(new BlockdevOptions.Blkdebug(name, name + "-f", null, rules, List.of(), false));
    }

    @Test
    void exportedDirectlyItSeesNoEventsAsInQemu() {
        BlockNode d = blkdebug("d0", List.of(InjectError.of("read_aio")));
        ByteBuffer buf = pattern(4096, 1);
        assertEquals(4096, io(ctx, d, BlockOp.READ, 0, buf, 4096, 0));
        assertEquals(4096, io(ctx, d, BlockOp.READ, 0, buf, 4096, 0));
        assertTrue(d.takesDebugEvents());
        assertNull(d.driverState().filename(), "with rules it is described by its options");
    }

    @Test
    void eventsWalkDownThroughNodesThatDoNotTakeThem() {
        blkdebug("d0", List.of(InjectError.of("read_aio")));
        // raw -> raw (window) -> blkdebug: the outer raw's event passes the inner raw to the filter.
        BlockNode inner = graph.add(new BlockdevOptions.Raw("r1", "d0", null, 4096, null, false));
        BlockNode outer = graph.add(new BlockdevOptions.Raw("r2", "r1", null, 0, null, false));
        assertTrue(outer.takesDebugEvents());
        ByteBuffer buf = pattern(4096, 2);
        assertEquals(-Errno.EIO, io(ctx, outer, BlockOp.READ, 0, buf, 4096, 0));
        assertEquals(1, outer.stats().failed(BlockStats.Kind.READ));
        assertEquals(1, inner.stats().failed(BlockStats.Kind.READ));
        assertEquals(0, graph.require("d0-f").stats().failed(BlockStats.Kind.READ));
        // A plain chain takes none, so raw never emits there.
        graph.add(new BlockdevOptions.NullCo("z", 1 << 20, true, 0, false));
        assertFalse(graph.add(new BlockdevOptions.Raw("rz", "z", null, 0, null, false)).takesDebugEvents());
    }

    @Test
    void writesReachTheFileThroughTheFilterAndItResizesAndDeletes() {
        BlockNode d = blkdebug("d0", List.of());
        BlockNode r = graph.add(new BlockdevOptions.Raw("r", "d0", null, 0, null, false));
        assertEquals("blkdebug::" + image, d.driverState().filename());
        ByteBuffer w = pattern(8192, 3);
        assertEquals(8192, io(ctx, r, BlockOp.WRITE, 4096, w, 8192, BlockRequest.FLAG_FUA));
        ByteBuffer back = ByteBuffer.allocateDirect(8192);
        assertEquals(8192, io(ctx, r, BlockOp.READ, 4096, back, 8192, 0));
        assertEquals(w, back);
        assertEquals(0, io(ctx, r, BlockOp.WRITE_ZEROES, 0, null, 4096, 0));
        assertEquals(0, io(ctx, r, BlockOp.DISCARD, 0, null, 4096, 0));
        assertEquals(0, io(ctx, r, BlockOp.FLUSH, 0, null, 0, 0));
        graph.resize(r, 2 << 20);
        assertEquals(2 << 20, r.size());
        assertEquals(2 << 20, d.size());
        assertEquals(List.of("d0"), graph.require("d0-f").parents().stream().map(BlockNode::nodeName).toList());
        QmpException busy = assertThrows(QmpException.class, () -> graph.delete("d0"));
        assertEquals("Block device d0 is in use", busy.getMessage());
        graph.delete("r");
        graph.delete("d0");
        graph.delete("d0-f");
        assertTrue(graph.nodes().isEmpty());
    }

    @Test
    void aWritableFilterOverAReadOnlyImageIsRefused() {
        graph.add(new BlockdevOptions.File("ro", image.toString(), null, false, false, null, false, true));
        QmpException e = assertThrows(QmpException.class, () -> graph.add(
                new BlockdevOptions.Blkdebug("d", "ro", null, List.of(), List.of(), false)));
        assertEquals("Cannot open node 'ro' writable: it is read-only", e.getMessage());
        graph.add(new BlockdevOptions.Blkdebug("d", "ro", null, List.of(), List.of(), true));
    }
}
