package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every handshake option over a real socket, answered as QEMU 7.2's server answers it. */
@Timeout(30)
class NbdOptionsTest {

    private static final long SIZE = 8 << 20;
    private static final int RW_FLAGS = 0x0d6d;   // what qemu-storage-daemon 7.2 sends for a writable raw file

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", SIZE)), true);
        bed.export("ro", bed.nullCo("z0", 1 << 20), false);
    }

    @AfterEach
    void tearDown() throws IOException {
        NbdTestClient.assertServes(bed.address(), "disk0", 0);
        bed.close();
    }

    @Test
    void exportNameGoesStraightToTransmissionWithoutZeroPadding() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.sendOption(Nbd.OPT_EXPORT_NAME, "disk0".getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = c.read(10);
            assertEquals(SIZE, b.getLong());
            assertEquals(RW_FLAGS, b.getShort() & 0xffff);
            assertEquals(0, c.call(Nbd.CMD_READ, 0, 0, 512, null).error());
        }
    }

    @Test
    void exportNameWithZeroPaddingWhenTheClientWantsIt() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(bed.address())) {
            c.clientFlags(Nbd.FLAG_FIXED_NEWSTYLE);
            c.sendOption(Nbd.OPT_EXPORT_NAME, "ro".getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = c.read(134);
            assertEquals(1 << 20, b.getLong());
            assertTrue((b.getShort() & Nbd.FLAG_READ_ONLY) != 0);
            assertEquals(0, c.call(Nbd.CMD_READ, 0, 0, 512, null).error());
        }
    }

    @Test
    void unknownExportNameDropsTheClient() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.sendOption(Nbd.OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            c.assertClosedByServer();
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_ABORT, new byte[0]).getFirst().type());
            c.assertClosedByServer();
        }
    }

    @Test
    void listNamesEveryExportAndRejectsData() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            List<NbdTestClient.OptionReply> r = c.option(Nbd.OPT_LIST, new byte[0]);
            assertEquals(3, r.size());
            ByteBuffer first = ByteBuffer.wrap(r.get(0).data());
            assertEquals(Nbd.REP_SERVER, r.get(0).type());
            byte[] name = new byte[first.getInt()];
            first.get(name);
            assertEquals("disk0", new String(name, StandardCharsets.UTF_8));
            assertEquals(Nbd.REP_ACK, r.get(2).type());
            NbdTestClient.OptionReply bad = c.option(Nbd.OPT_LIST, new byte[1]).getFirst();
            assertEquals(Nbd.REP_ERR_INVALID, bad.type());
            assertEquals("option 'list' has unexpected length", bad.message());
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_ABORT, new byte[0]).getFirst().type());
        }
    }

    @Test
    void infoAnswersNameDescriptionBlockSizeAndExportThenStaysInHandshake() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            List<NbdTestClient.OptionReply> r = c.option(Nbd.OPT_INFO, NbdTestClient.goData("disk0",
                    Nbd.INFO_NAME, Nbd.INFO_DESCRIPTION, Nbd.INFO_BLOCK_SIZE));
            assertEquals(5, r.size(), r.toString());
            assertEquals(Nbd.INFO_NAME, ByteBuffer.wrap(r.get(0).data()).getShort());
            ByteBuffer desc = ByteBuffer.wrap(r.get(1).data());
            assertEquals(Nbd.INFO_DESCRIPTION, desc.getShort());
            assertEquals("export disk0", StandardCharsets.UTF_8.decode(desc).toString());
            ByteBuffer bs = ByteBuffer.wrap(r.get(2).data());
            assertEquals(Nbd.INFO_BLOCK_SIZE, bs.getShort());
            assertEquals(1, bs.getInt());
            assertEquals(4096, bs.getInt());
            assertEquals(32 << 20, bs.getInt());
            ByteBuffer ex = ByteBuffer.wrap(r.get(3).data());
            assertEquals(Nbd.INFO_EXPORT, ex.getShort());
            assertEquals(SIZE, ex.getLong());
            assertEquals(RW_FLAGS, ex.getShort() & 0xffff);
            assertEquals(Nbd.REP_ACK, r.get(4).type());

            NbdTestClient.OptionReply unknown = c.option(Nbd.OPT_INFO, NbdTestClient.goData("nope")).getFirst();
            assertEquals(Nbd.REP_ERR_UNKNOWN, unknown.type());
            byte[] inconsistent = ByteBuffer.allocate(11).putInt(5).put("disk0".getBytes()).putShort((short) 1).array();
            assertEquals(Nbd.REP_ERR_INVALID, c.option(Nbd.OPT_INFO, inconsistent).getFirst().type());
            // Still negotiating: GO works after all that.
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_GO, NbdTestClient.goData("ro")).getLast().type());
            assertEquals(0, c.call(Nbd.CMD_READ, 0, 0, 4096, null).error());
        }
    }

    @Test
    void goToAnUnknownExportLeavesTheHandshakeOpen() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            NbdTestClient.OptionReply r = c.option(Nbd.OPT_GO, NbdTestClient.goData("nope")).getFirst();
            assertEquals(Nbd.REP_ERR_UNKNOWN, r.type());
            assertEquals("export 'nope' not present", r.message());
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_GO, NbdTestClient.goData("disk0")).getLast().type());
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
        }
    }

    @Test
    void structuredReplyOnceAddsDfAndASecondTimeIsInvalid() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", true)) {
            assertEquals(RW_FLAGS | Nbd.FLAG_SEND_DF, c.transmissionFlags);
        }
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).getFirst().type());
            NbdTestClient.OptionReply again = c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).getFirst();
            assertEquals(Nbd.REP_ERR_INVALID, again.type());
            assertEquals(Nbd.REP_ERR_INVALID, c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[2]).getFirst().type());
        }
    }

    @Test
    void metaContextsListAndSetBaseAllocation() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            // Listing needs no structured replies (QEMU 7.2 agrees); setting does.
            List<NbdTestClient.OptionReply> all = c.option(Nbd.OPT_LIST_META_CONTEXT, NbdTestClient.metaData("disk0"));
            assertEquals(Nbd.REP_META_CONTEXT, all.getFirst().type());
            assertEquals("base:allocation", new String(all.getFirst().data(), 4, all.getFirst().data().length - 4,
                    StandardCharsets.US_ASCII));
            List<NbdTestClient.OptionReply> prefix = c.option(Nbd.OPT_LIST_META_CONTEXT,
                    NbdTestClient.metaData("disk0", "base:"));
            assertEquals(List.of(Nbd.REP_META_CONTEXT, Nbd.REP_ACK), prefix.stream().map(NbdTestClient.OptionReply::type).toList());
            assertEquals(Nbd.REP_ERR_INVALID, c.option(Nbd.OPT_SET_META_CONTEXT,
                    NbdTestClient.metaData("disk0", "base:allocation")).getFirst().type());
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.option(Nbd.OPT_SET_META_CONTEXT,
                    NbdTestClient.metaData("nope", "base:allocation")).getFirst().type());
            List<NbdTestClient.OptionReply> none = c.option(Nbd.OPT_SET_META_CONTEXT,
                    NbdTestClient.metaData("disk0", "qemu:dirty-bitmap:x"));
            assertEquals(List.of(Nbd.REP_ACK), none.stream().map(NbdTestClient.OptionReply::type).toList());
            List<NbdTestClient.OptionReply> set = c.option(Nbd.OPT_SET_META_CONTEXT,
                    NbdTestClient.metaData("disk0", "base:allocation"));
            assertEquals(List.of(Nbd.REP_META_CONTEXT, Nbd.REP_ACK), set.stream().map(NbdTestClient.OptionReply::type).toList());
            assertEquals(Nbd.META_ID_BASE_ALLOCATION, ByteBuffer.wrap(set.getFirst().data()).getInt());
        }
    }

    @Test
    void unknownOptionAndStartTlsAreRefusedButTheHandshakeGoesOn() throws IOException {
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            NbdTestClient.OptionReply unknown = c.option(99, new byte[] {1, 2, 3}).getFirst();
            assertEquals(Nbd.REP_ERR_UNSUP, unknown.type());
            assertEquals(Nbd.REP_ERR_POLICY, c.option(Nbd.OPT_STARTTLS, new byte[0]).getFirst().type());
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_GO, NbdTestClient.goData("disk0")).getLast().type());
        }
    }
}
