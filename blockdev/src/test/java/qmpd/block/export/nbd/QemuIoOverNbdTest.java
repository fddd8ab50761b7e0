package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * qemu-io (QEMU's own client: structured replies, base:allocation) drives every write flavour
 * through an IOThread export, and the bytes land in the file: plain, FUA, zeroes (with and without
 * unmap), unaligned and cross-boundary, then flush. Once over a UNIX socket and once over TCP.
 */
@Timeout(60)
class QemuIoOverNbdTest {

    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    private static String qemuIo(String uri, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(uri);
        Cli.Result r = Cli.run(30, cmd.toArray(String[]::new)).ok();
        String all = r.out() + r.err();
        assertFalse(all.contains("failed") || all.contains("error") || all.contains("Pattern verification"), all);
        return r.out();
    }

    private void exercise(Path image, String uri) throws IOException {
        qemuIo(uri, "write -P 0xab 0 64k", "read -P 0xab 0 64k");
        qemuIo(uri, "write -f -P 0xcd 64k 64k", "read -P 0xcd 64k 64k");
        qemuIo(uri, "write -P 0xee 128k 128k", "write -z 128k 64k", "write -z -u 192k 64k",
                "read -P 0 128k 128k");
        qemuIo(uri, "write -P 0x11 4095 8193", "read -P 0x11 4095 8193", "read -P 0xab 0 4095",
                "read -P 0xab 12288 53248", "write -P 0x22 1048575 2", "read -P 0x22 1048575 2", "flush");

        byte[] disk = Files.readAllBytes(image);
        assertRange(disk, 0, 4095, 0xab);
        assertRange(disk, 4095, 8193, 0x11);
        assertRange(disk, 12288, 65536 - 12288, 0xab);
        assertRange(disk, 65536, 65536, 0xcd);
        assertRange(disk, 131072, 131072, 0);
        assertRange(disk, 1048575, 2, 0x22);
        assertRange(disk, 1048577, SIZE - 1048577, 0);
    }

    private static void assertRange(byte[] disk, int offset, int length, int value) {
        for (int i = offset; i < offset + length; i++) {
            if ((disk[i] & 0xff) != value) {
                assertEquals(value, disk[i] & 0xff, "byte at " + i);
            }
        }
    }

    @Test
    void everyWriteFlavourLandsInTheFileOverUnixSocket() throws IOException {
        Cli.assumeInstalled("qemu-io");
        bed = NbdTestBed.unix(dir);
        Path image = bed.sparseFile("disk.raw", SIZE);
        bed.export("disk0", bed.raw("n0", image), true);
        exercise(image, bed.uri("disk0"));
    }

    @Test
    void everyWriteFlavourLandsInTheFileOverTcpLoopback() throws IOException {
        Cli.assumeInstalled("qemu-io");
        bed = new NbdTestBed(dir);
        bed.listenTcp();
        Path image = bed.sparseFile("disk.raw", SIZE);
        bed.export("disk0", bed.raw("n0", image), true);
        exercise(image, bed.uri("disk0"));
    }

    @Test
    void nullCoExportReadsZeroesAndSwallowsWrites() {
        Cli.assumeInstalled("qemu-io");
        bed = NbdTestBed.unix(dir);
        bed.export("null0", bed.nullCo("z0", 64 << 20), true);
        String out = qemuIo(bed.uri("null0"), "write -P 0xab 0 1M", "read -P 0 0 1M", "write -f 60M 4M",
                "write -z 1M 4M", "flush", "read -P 0 63M 1M");
        assertFalse(out.isBlank());
    }
}
