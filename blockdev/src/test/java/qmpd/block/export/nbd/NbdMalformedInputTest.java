package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input gets QEMU 7.2's answer (probed against qemu-storage-daemon 7.2): EINVAL for every
 * rejected request, the connection kept unless the byte stream is lost (bad magic, an oversized
 * WRITE whose payload is not read, a bad option header). After each case a fresh client is served.
 */
@Timeout(30)
class NbdMalformedInputTest {

    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", SIZE)), true);
        bed.export("ro", bed.raw("n1", bed.sparseFile("ro.raw", SIZE)), false);
    }

    @AfterEach
    void tearDown() throws IOException {
        NbdTestClient.assertServes(bed.address(), "disk0", 4096);
        bed.close();
    }

    /** The connection survived: a read right after still works. */
    private static void assertStillServing(NbdTestClient c) throws IOException {
        c.request(Nbd.CMD_READ, 0, 99, 0, 512, null);
        NbdTestClient.Reply r = c.reply();
        assertEquals(99, r.handle());
        assertEquals(0, r.error());
    }

    private static void assertEinval(NbdTestClient.Reply r, boolean structured) {
        assertEquals(Nbd.EINVAL, r.error());
        assertEquals(structured, r.structured());
        if (structured) {
            assertTrue(r.message() != null && !r.message().isEmpty(), "an error chunk carries a message");
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void badRequestMagicIsAnsweredThenTheClientDropped(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            c.write(ByteBuffer.allocate(28).putInt(0x12345678).putShort((short) 0).putShort((short) 0)
                    .putLong(5).putLong(0).putInt(512).flip());
            NbdTestClient.Reply r = c.reply();
            assertEquals(5, r.handle());
            assertEinval(r, structured);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void readOrCacheOverTheLimitIsRefusedAndTheConnectionKept(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            c.request(Nbd.CMD_READ, 0, 1, 0, (32 << 20) + 1, null);
            assertEinval(c.reply(), structured);
            assertEinval(c.call(Nbd.CMD_CACHE, 0, 0, 64 << 20, null), structured);
            assertStillServing(c);
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void writeOverTheLimitIsRefusedThenTheClientDropped(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            c.request(Nbd.CMD_WRITE, 0, 1, 0, (32 << 20) + 1, null);
            assertEinval(c.reply(), structured);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void requestsPastTheEndAreEinval(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", structured)) {
            assertEinval(c.call(Nbd.CMD_READ, 0, SIZE, 512, null), structured);
            assertEinval(c.call(Nbd.CMD_READ, 0, SIZE - 511, 512, null), structured);
            assertEinval(c.call(Nbd.CMD_WRITE, 0, SIZE, 512, new byte[512]), structured);
            assertEinval(c.call(Nbd.CMD_WRITE_ZEROES, 0, SIZE - 4096, 8192, null), structured);
            assertEinval(c.call(Nbd.CMD_TRIM, 0, -4096, 4096, null), structured);
            assertEinval(c.call(Nbd.CMD_CACHE, 0, SIZE, 1, null), structured);
            assertStillServing(c);
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void writesToAReadOnlyExportAreEinvalAndTheirPayloadConsumed(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "ro", structured)) {
            assertTrue((c.transmissionFlags & Nbd.FLAG_READ_ONLY) != 0);
            assertEinval(c.call(Nbd.CMD_WRITE, 0, 0, 4096, new byte[4096]), structured);
            assertEinval(c.call(Nbd.CMD_WRITE_ZEROES, 0, 0, 4096, null), structured);
            assertEinval(c.call(Nbd.CMD_TRIM, 0, 0, 4096, null), structured);
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertStillServing(c);
        }
    }

    @ParameterizedTest(name = "structured={0}")
    @ValueSource(booleans = {false, true})
    void unknownCommandsFlagsAndUnnegotiatedBlockStatusAreEinval(boolean structured) throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            if (structured) {
                c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            }
            c.option(Nbd.OPT_GO, NbdTestClient.goData("disk0"));
            assertEinval(c.call(99, 0, 0, 512, null), structured);
            assertEinval(c.call(Nbd.CMD_READ, 0x40, 0, 512, null), structured);
            assertEinval(c.call(Nbd.CMD_WRITE, Nbd.CMD_FLAG_NO_HOLE, 0, 512, new byte[512]), structured);
            assertEinval(c.call(Nbd.CMD_BLOCK_STATUS, 0, 0, 4096, null), structured);
            if (!structured) {
                assertEinval(c.call(Nbd.CMD_READ, Nbd.CMD_FLAG_DF, 0, 512, null), false);
            }
            assertStillServing(c);
        }
    }

    @Test
    void badOptionMagicDropsTheClient() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.write(ByteBuffer.allocate(16).putLong(0x1234).putInt(Nbd.OPT_LIST).putInt(0).flip());
            c.assertClosedByServer();
        }
    }

    @Test
    void optionOverTheBufferLimitDropsTheClient() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.write(ByteBuffer.allocate(16).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_LIST).putInt(64 << 20).flip());
            c.assertClosedByServer();
        }
    }

    @Test
    void largeOptionUnderTheLimitIsSkippedAndRefused() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.sendOption(Nbd.OPT_INFO, new byte[1 << 20]);
            assertTrue(c.readOptionReply().isError());
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_GO, NbdTestClient.goData("disk0")).getLast().type());
            assertStillServing(c);
        }
    }

    @Test
    void unknownClientFlagsDropTheClient() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(bed.address())) {
            c.clientFlags(0x80);
            c.assertClosedByServer();
        }
    }
}
