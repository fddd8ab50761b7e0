package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every transmission command against a file+raw export in an IOThread, with simple and with
 * structured replies; the file holds what the protocol acknowledged.
 */
@Timeout(30)
class NbdCommandsTest {

    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        image = bed.sparseFile("disk.raw", SIZE);
        bed.export("disk0", bed.raw("n0", image), true);
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    private static byte[] fill(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private byte[] fileRange(int offset, int length) throws IOException {
        return Arrays.copyOfRange(Files.readAllBytes(image), offset, offset + length);
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void readWriteFuaFlushAndCache(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 4096, 65536, fill(65536, 0xab)).error());
            assertEquals(0, c.call(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, 1 << 20, 1000, fill(1000, 0xcd)).error());
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertArrayEquals(fill(65536, 0xab), fileRange(4096, 65536));
            assertArrayEquals(fill(1000, 0xcd), fileRange(1 << 20, 1000));

            NbdTestClient.Reply read = c.call(Nbd.CMD_READ, 0, 4000, 70000, null);
            assertEquals(0, read.error());
            assertEquals(structured, read.structured());
            byte[] want = new byte[70000];
            System.arraycopy(fill(65536, 0xab), 0, want, 96, 65536);
            assertArrayEquals(want, read.data());
            if (structured) {
                assertEquals(0, c.call(Nbd.CMD_READ, Nbd.CMD_FLAG_DF, 0, 4096, null).error());
            }
            byte[] none = c.call(Nbd.CMD_READ, 0, 0, 0, null).data();
            assertTrue(none == null || none.length == 0, "a zero-length read carries no data");
            assertEquals(0, c.call(Nbd.CMD_CACHE, 0, 0, 1 << 20, null).error());
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 0, 0, new byte[0]).error());
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void trimAndWriteZeroesReadBackAsZeroes(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            c.call(Nbd.CMD_WRITE, 0, 0, 262144, fill(262144, 0x77));
            assertEquals(0, c.call(Nbd.CMD_WRITE_ZEROES, 0, 0, 65536, null).error());
            assertEquals(0, c.call(Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FUA, 65536, 4096, null).error());
            // FAST_ZERO: succeed fast or refuse with ENOTSUP and leave the data alone (never slow).
            int fast = c.call(Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLAG_FAST_ZERO, 131072, 4096, null).error();
            assertTrue(fast == 0 || fast == Nbd.ENOTSUP, "fast zero answered " + fast);
            assertArrayEquals(fast == 0 ? new byte[4096] : fill(4096, 0x77), fileRange(131072, 4096));
            assertEquals(0, c.call(Nbd.CMD_TRIM, 0, 0, 4096, null).error());
            assertArrayEquals(new byte[69632], c.call(Nbd.CMD_READ, 0, 0, 69632, null).data());
            assertArrayEquals(new byte[69632], fileRange(0, 69632));
            assertArrayEquals(fill(4096, 0x77), fileRange(135168, 4096));
        }
    }

    @org.junit.jupiter.api.Test
    void blockStatusReportsHolesAndDataOfTheSparseFile() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", true)) {
            c.call(Nbd.CMD_WRITE, 0, 2 << 20, 1 << 20, fill(1 << 20, 1));
            NbdTestClient.Reply r = c.call(Nbd.CMD_BLOCK_STATUS, 0, 0, SIZE, null);
            assertEquals(0, r.error());
            long at = 0;
            boolean sawData = false;
            for (int[] e : r.extents()) {
                boolean hole = (e[1] & Nbd.STATE_HOLE) != 0;
                if (at < 2 << 20) {
                    assertTrue(hole, "before the data is a hole");
                } else if (at < 3 << 20) {
                    assertEquals(0, e[1], "the written MiB is data");
                    sawData = true;
                }
                at += Integer.toUnsignedLong(e[0]);
            }
            assertEquals(SIZE, at, "extents cover the request");
            assertTrue(sawData);
            NbdTestClient.Reply one = c.call(Nbd.CMD_BLOCK_STATUS, Nbd.CMD_FLAG_REQ_ONE, 0, SIZE, null);
            assertEquals(1, one.extents().size());
            assertEquals(Nbd.STATE_HOLE | Nbd.STATE_ZERO, one.extents().getFirst()[1]);
        }
    }

    @org.junit.jupiter.api.Test
    void discStopsTheConnectionAfterInFlightRepliesAreSent() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", false)) {
            c.request(Nbd.CMD_WRITE, 0, 7, 0, 4096, fill(4096, 9));
            c.request(Nbd.CMD_DISC, 0, 8, 0, 0, null);
            assertEquals(7, c.reply().handle());
            c.assertClosedByServer();
        }
        assertArrayEquals(fill(4096, 9), fileRange(0, 4096));
    }
}
