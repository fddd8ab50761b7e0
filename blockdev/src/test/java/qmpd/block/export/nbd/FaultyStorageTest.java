package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import qmpd.block.BlockNode;
import qmpd.block.BlockStats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real storage faults under an NBD export (no injection): a file system that fills up, a backing
 * file unlinked while open, a file truncated under the export, a file system unmounted under it.
 * Clients get clear NBD errors, acknowledged writes stay readable, and the nodes can be deleted.
 */
@Timeout(120)
class FaultyStorageTest {

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path mount;
    private NbdExport exportHandle;

    @BeforeEach
    void setUp() {
        bed = NbdTestBed.unix(dir);
    }

    @AfterEach
    void tearDown() {
        try {
            bed.close();
        } finally {
            if (mount != null) {
                Cli.run(30, "umount", "-l", mount.toString());
            }
        }
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** Exports raw over file over {@code image} as "disk"; returns the raw node. */
    private BlockNode export(Path image) {
        BlockNode n = bed.raw("n0", image);
        exportHandle = bed.export("disk", n, true);
        return n;
    }

    private void deleteNodes() {
        bed.h.onMain(() -> {
            bed.h.graph.delete("n0");
            bed.h.graph.delete("n0-file");
        });
        assertTrue(bed.h.onMain(() -> bed.h.graph.nodes().isEmpty()));
    }

    /** Mounts a 1 MiB tmpfs, or skips the test where mounting is not permitted (not root, a container). */
    private Path smallTmpfs() throws IOException {
        Path m = Files.createDirectories(dir.resolve("mnt"));
        Cli.Result r = Cli.run(30, "mount", "-t", "tmpfs", "-o", "size=1m", "qmpd-test", m.toString());
        Assumptions.assumeTrue(r.exit() == 0, "cannot mount a 1 MiB tmpfs here (needs root and CAP_SYS_ADMIN): "
                + r.err().strip());
        mount = m;
        return m;
    }

    @Test
    void writesBeyondAFullFileSystemGetEnospcAndReadsKeepWorking() throws IOException {
        Path fs = smallTmpfs();
        Path disk = fs.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(8 << 20);   // 8 MiB of holes on 1 MiB of space
        }
        BlockNode n0 = export(disk);
        byte[] first = filled(256 << 10, 0x5a);
        int enospc = 0;
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 0, first.length, first).error(), "fits");
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            // 1 MiB writes until the space is gone: every failure is ENOSPC, never anything else.
            for (int i = 1; i < 8; i++) {
                int err = c.call(Nbd.CMD_WRITE, 0, (long) i << 20, 1 << 20, filled(1 << 20, i)).error();
                if (err != 0) {
                    assertEquals(Nbd.ENOSPC, err, "write at " + i + " MiB");
                    enospc++;
                }
            }
            assertTrue(enospc >= 6, "at most one more MiB fits on a 1 MiB file system: " + enospc + " ENOSPC");
            // The acknowledged write is intact and the same connection still serves reads.
            assertArrayEquals(first, c.call(Nbd.CMD_READ, 0, 0, first.length, null).data());
            assertArrayEquals(new byte[4096], c.call(Nbd.CMD_READ, 0, 7 << 20, 4096, null).data());
        }
        assertEquals(enospc, n0.stats().failed(BlockStats.Kind.WRITE));
        if (Cli.onPath("qemu-io")) {
            Cli.Result r = Cli.run(60, "qemu-io", "-f", "raw", "-c", "write -P 0x77 6M 1M", "-c", "read -P 0x5a 0 256k",
                    bed.uri("disk"));
            assertTrue(r.out().contains("write failed: No space left on device"), r.out() + r.err());
            assertTrue(r.out().contains("read 262144/262144"), r.out() + r.err());
        }

        // The file system goes away under the open file (lazy unmount): the open file still serves.
        Cli.run(30, "umount", "-l", fs.toString()).ok();
        mount = null;
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertArrayEquals(first, c.call(Nbd.CMD_READ, 0, 0, first.length, null).data());
        }
        bed.shutdown(exportHandle, true);
        deleteNodes();
    }

    @Test
    void aBackingFileUnlinkedWhileOpenKeepsServing() throws IOException {
        Path image = bed.sparseFile("disk.raw", 4 << 20);
        BlockNode n0 = bed.raw("n0", image);
        exportHandle = bed.export("disk", n0, true);
        byte[] a = filled(64 << 10, 0x11);
        byte[] b = filled(64 << 10, 0x22);
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 0, a.length, a).error());
            Files.delete(image);   // POSIX: the open file lives on
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 1 << 20, b.length, b).error());
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertArrayEquals(a, c.call(Nbd.CMD_READ, 0, 0, a.length, null).data());
            assertArrayEquals(b, c.call(Nbd.CMD_READ, 0, 1 << 20, b.length, null).data());
        }
        bed.shutdown(exportHandle, true);
        deleteNodes();
        assertTrue(Files.notExists(image));
    }

    @Test
    void aBackingFileTruncatedUnderUsReadsZeroesPastItsEndAsQemuDoes() throws IOException {
        Path image = bed.sparseFile("disk.raw", 4 << 20);
        BlockNode n0 = bed.raw("n0", image);
        exportHandle = bed.export("disk", n0, true);
        byte[] a = filled(64 << 10, 0x33);
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 0, a.length, a).error());
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 2 << 20, a.length, a).error());
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(4096);   // someone else shrinks the file
            }
            // qemu-storage-daemon 7.2 keeps the size it opened with and reads zeroes past the end.
            NbdTestClient.Reply r = c.call(Nbd.CMD_READ, 0, 0, a.length, null);
            assertEquals(0, r.error());
            assertArrayEquals(Arrays.copyOf(filled(4096, 0x33), a.length), r.data());
            assertArrayEquals(new byte[a.length], c.call(Nbd.CMD_READ, 0, 2 << 20, a.length, null).data());
            // Writing there extends the file again, and reads back.
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 3 << 20, a.length, a).error());
            assertArrayEquals(a, c.call(Nbd.CMD_READ, 0, 3 << 20, a.length, null).data());
        }
        assertEquals(4 << 20, n0.size());
        bed.shutdown(exportHandle, true);
        deleteNodes();
    }
}
