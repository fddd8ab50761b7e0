package qmpd.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.block.BlockTestSupport.io;
import static qmpd.block.BlockTestSupport.pattern;
import static qmpd.block.BlockTestSupport.status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;

/**
 * The file driver's discard=unmap (holes punched, reads return zeroes, block status reports the
 * hole) and its image locks, against itself and against real QEMU tools (qemu-img, qemu-io).
 */
@Timeout(60)
class FileDiscardAndLockingTest extends GraphOnTestThread {

    private static BlockdevOptions.File file(String name, Path p, boolean discardUnmap, boolean readOnly,
                                             BlockdevOptions.File.Locking locking) {
        return new BlockdevOptions.File(name, p.toString(), BlockdevOptions.File.Aio.THREADS, false, false,
                locking, discardUnmap, readOnly);
    }

    @Test
    void discardUnmapPunchesAHoleThatReadsAsZeroes() throws IOException {
        Path p = image(1 << 20);
        BlockNode f = graph.add(file("f", p, true, false, BlockdevOptions.File.Locking.AUTO));
        assertEquals(1 << 20, io(ctx, f, BlockOp.WRITE, 0, pattern(1 << 20, 3), 1 << 20, 0));
        assertEquals(BlockRequest.STATUS_DATA, status(ctx, f, 65536, 65536).statusFlags());

        assertEquals(0, io(ctx, f, BlockOp.DISCARD, 65536, null, 131072, 0));
        assertEquals(1, f.stats().ops(BlockStats.Kind.DISCARD));
        ByteBuffer back = ByteBuffer.allocate(262144);
        io(ctx, f, BlockOp.READ, 0, back, 262144, 0);
        for (int i = 0; i < 262144; i++) {
            byte expect = i >= 65536 && i < 196608 ? 0 : (byte) (3 + i * 31);
            assertEquals(expect, back.get(i), "byte " + i);
        }
        // The file system really deallocated it: SEEK_HOLE finds the hole.
        assertEquals(BlockRequest.STATUS_ZERO, status(ctx, f, 65536, 65536).statusFlags());
        assertEquals(1 << 20, Files.size(p), "discard keeps the size");
    }

    @Test
    void discardIgnoreLeavesTheData() throws IOException {
        BlockNode f = graph.add(file("f", image(1 << 20), false, false, BlockdevOptions.File.Locking.AUTO));
        io(ctx, f, BlockOp.WRITE, 0, pattern(65536, 5), 65536, 0);
        assertEquals(0, io(ctx, f, BlockOp.DISCARD, 0, null, 65536, 0));
        ByteBuffer back = ByteBuffer.allocate(65536);
        io(ctx, f, BlockOp.READ, 0, back, 65536, 0);
        assertEquals((byte) (5 + 100 * 31), back.get(100), "QEMU's default discard=ignore keeps data");
    }

    @Test
    void aSecondWriterIsRefusedWithQemusMessageAndReadersShare() throws IOException {
        Path p = image(1 << 20);
        graph.add(file("w", p, false, false, BlockdevOptions.File.Locking.AUTO));
        QmpException e = assertThrows(QmpException.class,
                () -> graph.add(file("w2", p, false, false, BlockdevOptions.File.Locking.AUTO)));
        assertEquals("Failed to get \"write\" lock", e.getMessage());
        assertEquals(null, graph.find("w2"), "nothing half-built");
        // A reader without force-share refuses a writer, so it cannot open next to one either.
        QmpException r = assertThrows(QmpException.class,
                () -> graph.add(file("r", p, false, true, BlockdevOptions.File.Locking.AUTO)));
        assertEquals("Failed to get shared \"write\" lock", r.getMessage());
        // locking=off opts out, as in QEMU.
        graph.add(file("nolock", p, false, false, BlockdevOptions.File.Locking.OFF));
        // Closing the writer drops its locks: two readers then share the image.
        graph.delete("w");
        graph.add(file("r1", p, false, true, BlockdevOptions.File.Locking.AUTO));
        graph.add(file("r2", p, false, true, BlockdevOptions.File.Locking.AUTO));
    }

    private static String qemu(String... cmd) throws Exception {
        Process pr;
        try {
            pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort(cmd[0] + " is not installed (.ci/run installs qemu-utils)");
            return null;
        }
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pr.waitFor(30, TimeUnit.SECONDS));
        return pr.exitValue() + ":" + out;
    }

    @Test
    void qemuToolsSeeOurLocksAndWeSeeTheirs() throws Exception {
        Path p = image(1 << 20);
        graph.add(file("w", p, false, false, BlockdevOptions.File.Locking.AUTO));
        String io = qemu("qemu-io", "-f", "raw", "-c", "write 0 4k", p.toString());
        assertTrue(io.startsWith("1:") && io.contains("Failed to get \"write\" lock"), io);
        // QEMU's read-only open of a raw image shares write, so inspecting the image still works.
        String info = qemu("qemu-img", "info", p.toString());
        assertTrue(info.startsWith("0:") && info.contains("virtual size: 1 MiB"), info);
        graph.delete("w");

        // And the other way round: qemu-io holding the image writable refuses our writer.
        Process holder = new ProcessBuilder("qemu-io", "-f", "raw", p.toString()).redirectErrorStream(true).start();
        try {
            holder.getOutputStream().write("write 0 512\n".getBytes(StandardCharsets.US_ASCII));
            holder.getOutputStream().flush();
            byte[] buf = new byte[256];
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().contains("wrote 512/512")) {
                int n = holder.getInputStream().read(buf);
                assertNotEquals(-1, n, "qemu-io ended: " + seen);
                seen.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
            }
            QmpException e = assertThrows(QmpException.class,
                    () -> graph.add(file("w3", p, false, false, BlockdevOptions.File.Locking.AUTO)));
            assertTrue(e.getMessage().startsWith("Failed to get"), e.getMessage());
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
