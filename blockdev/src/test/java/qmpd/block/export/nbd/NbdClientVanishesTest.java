package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import qmpd.config.schema.block.BlockdevOptions;

/**
 * Clients that vanish at the worst moment: mid-handshake, with requests in flight in an IOThread
 * export, with replies backed up unread, or halfway through a WRITE payload. The server closes
 * its side, forgets the connection, throws nothing, and serves the next client.
 */
@Timeout(30)
class NbdClientVanishesTest {

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", 64 << 20)), true);
        // null-co with 20 ms per request: whatever is sent is still in flight when the client goes.
        bed.export("slow", bed.h.onMain(() -> bed.h.graph.add(
                new BlockdevOptions.NullCo("slow0", 64 << 20, true, 20_000_000L, false))), true);
    }

    @AfterEach
    void tearDown() throws IOException {
        bed.awaitNoConnections();
        NbdTestClient.assertServes(bed.address(), "disk0", 0);
        NbdTestClient.assertServes(bed.address(), "slow", 0, false);
        bed.close();
    }

    @Test
    void closingAtEveryHandshakeStepLeavesNoConnectionBehind() throws IOException {
        NbdTestClient.connect(bed.address()).close();
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.write(ByteBuffer.allocate(10).putLong(Nbd.IHAVEOPT).putShort((short) 0).flip());
        }
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.sendOption(Nbd.OPT_INFO, new byte[100]);   // header complete, payload not
        }
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            c.sendOption(Nbd.OPT_GO, NbdTestClient.goData("slow"));   // gone before the reply
        }
    }

    @Test
    void closingWithRequestsInFlightInTheIOThread() throws IOException {
        for (String name : new String[] {"slow", "disk0"}) {
            try (NbdTestClient c = NbdTestClient.go(bed.address(), name, true)) {
                byte[] data = new byte[65536];
                for (int i = 0; i < 64; i++) {
                    c.request(i % 2 == 0 ? Nbd.CMD_READ : Nbd.CMD_WRITE, 0, i, (long) i << 16, 65536,
                            i % 2 == 0 ? null : data);
                }
                c.request(Nbd.CMD_FLUSH, 0, 100, 0, 0, null);
            }
        }
    }

    @Test
    void closingWithRepliesBackedUpUnread() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", false)) {
            for (int i = 0; i < 48; i++) {
                c.request(Nbd.CMD_READ, 0, i, (long) i << 20, 1 << 20, null);   // 48 MiB nobody reads
            }
            c.request(Nbd.CMD_FLUSH, 0, 99, 0, 0, null);
            c.reply();   // at least one answer is out, the rest are queued behind it
        }
    }

    @Test
    void closingHalfwayThroughAWritePayload() throws IOException {
        for (String name : new String[] {"slow", "disk0"}) {
            try (NbdTestClient c = NbdTestClient.go(bed.address(), name, false)) {
                c.request(Nbd.CMD_WRITE, 0, 1, 0, 4096, new byte[4096]);
                c.write(ByteBuffer.allocate(28 + 1000).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) Nbd.CMD_WRITE).putLong(2).putLong(0).putInt(1 << 20).flip());
            }
            try (NbdTestClient c = NbdTestClient.go(bed.address(), name, false)) {
                c.write(ByteBuffer.allocate(28 + 100_000).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) Nbd.CMD_WRITE).putLong(2).putLong(0).putInt(1 << 20).flip());
            }
        }
    }
}
