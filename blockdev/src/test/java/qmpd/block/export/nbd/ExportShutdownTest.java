package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Taking an export or the server away under busy clients: a soft shutdown lets connected clients
 * finish, a hard one drops them, the server stop drops only clients still negotiating. In every
 * case no acknowledged write is lost, nothing hangs, and a new server on the same path serves.
 */
@Timeout(60)
class ExportShutdownTest {

    private static final int CHUNK = 64 << 10;

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path image;
    private NbdExport export;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        image = bed.sparseFile("disk.raw", 64 << 20);
        export = bed.export("disk0", bed.raw("n0", image), true);
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    private static byte[] chunk(int client, long index) {
        byte[] b = new byte[CHUNK];
        Arrays.fill(b, (byte) (client * 37 + index % 200 + 1));
        return b;
    }

    /**
     * Writes its own 16 MiB (8 requests in flight), then keeps flushing, until the server drops
     * the connection; returns the handles of the writes acknowledged. Handle i writes chunk i.
     */
    private java.util.Set<Long> writeUntilDropped(int id, CountDownLatch started) throws IOException {
        java.util.Set<Long> acked = new java.util.HashSet<>();
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", id % 2 == 1)) {
            long chunks = (16 << 20) / CHUNK;
            long sent = 0;
            long replies = 0;
            try {
                while (true) {
                    while (sent - replies < 8) {
                        if (sent < chunks) {
                            c.request(Nbd.CMD_WRITE, 0, sent, (long) id * (16 << 20) + sent * CHUNK, CHUNK, chunk(id, sent));
                        } else {
                            c.request(Nbd.CMD_FLUSH, 0, sent, 0, 0, null);
                        }
                        sent++;
                    }
                    NbdTestClient.Reply r = c.reply();
                    assertEquals(0, r.error());
                    replies++;
                    if (r.handle() < chunks) {
                        acked.add(r.handle());
                    }
                    if (replies == 16) {
                        started.countDown();
                    }
                }
            } catch (EOFException | java.net.SocketException e) {
                return acked;
            } catch (IOException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("reset") || m.contains("pipe")) {
                    return acked;
                }
                throw e;
            }
        }
    }

    /** Every acknowledged write of client {@code id} is in the file. */
    private void assertAcknowledgedWritesInFile(int id, java.util.Set<Long> acked) throws IOException {
        byte[] disk = Files.readAllBytes(image);
        for (long w : acked) {
            int off = (int) ((long) id * (16 << 20) + w * CHUNK);
            assertArrayEquals(chunk(id, w), Arrays.copyOfRange(disk, off, off + CHUNK),
                    "client " + id + " write " + w + " was acknowledged");
        }
    }

    @Test
    void hardShutdownDropsBusyClientsWithoutLosingAcknowledgedWrites() throws Exception {
        CountDownLatch started = new CountDownLatch(4);
        List<Future<java.util.Set<Long>>> clients = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 4; i++) {
                int id = i;
                clients.add(pool.submit(() -> writeUntilDropped(id, started)));
            }
            NbdTestBed.await(started, "clients to get busy");
            bed.shutdown(export, true);
            for (int i = 0; i < 4; i++) {
                java.util.Set<Long> acked = clients.get(i).get(20, TimeUnit.SECONDS);
                assertFalse(acked.isEmpty());
                assertAcknowledgedWritesInFile(i, acked);
            }
        }
        assertEquals(0, (int) bed.h.onMain(() -> export.connectionCount()));
        try (NbdTestClient c = NbdTestClient.open(bed.address())) {
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.option(Nbd.OPT_GO, NbdTestClient.goData("disk0")).getFirst().type());
        }
        bed.export("again", bed.h.onMain(() -> bed.h.graph.require("n0")), true);
        NbdTestClient.assertServes(bed.address(), "again", 60 << 20);
    }

    @Test
    void softShutdownLetsConnectedClientsFinishAndRefusesNewOnes() throws Exception {
        CountDownLatch gone = new CountDownLatch(1);
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", true)) {
            for (int i = 0; i < 16; i++) {
                c.request(Nbd.CMD_WRITE, 0, i, (long) i * CHUNK, CHUNK, chunk(0, i));
            }
            bed.h.onMain(() -> export.shutdown(false, gone::countDown));
            for (int i = 0; i < 16; i++) {
                assertEquals(0, c.reply().error());
            }
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertFalse(gone.await(0, TimeUnit.MILLISECONDS), "gone before its client left");
            try (NbdTestClient late = NbdTestClient.open(bed.address())) {
                assertEquals(Nbd.REP_ERR_UNKNOWN, late.option(Nbd.OPT_GO, NbdTestClient.goData("disk0")).getFirst().type());
            }
            c.request(Nbd.CMD_DISC, 0, 99, 0, 0, null);
            c.assertClosedByServer();
        }
        NbdTestBed.await(gone, "the soft-shut export to report gone");
        byte[] disk = Files.readAllBytes(image);
        for (int i = 0; i < 16; i++) {
            assertArrayEquals(chunk(0, i), Arrays.copyOfRange(disk, i * CHUNK, (i + 1) * CHUNK));
        }
    }

    @Test
    void serverStopDropsNegotiatingClientsKeepsServingOnesAndFreesThePath() throws Exception {
        try (NbdTestClient negotiating = NbdTestClient.open(bed.address());
             NbdTestClient serving = NbdTestClient.go(bed.address(), "disk0", true)) {
            for (int i = 0; i < 8; i++) {
                serving.request(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, i, (long) i * CHUNK, CHUNK, chunk(1, i));
            }
            bed.h.onMain(() -> bed.server.stop());
            negotiating.assertClosedByServer();
            assertFalse(Files.exists(bed.socket), "the socket file is removed");
            assertThrows(IOException.class, () -> NbdTestClient.connect(UnixDomainSocketAddress.of(bed.socket)).close());
            for (int i = 0; i < 8; i++) {
                assertEquals(0, serving.reply().error());
            }
            assertEquals(0, serving.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
        }
        bed.shutdown(export, true);
        bed.awaitNoConnections();
        byte[] disk = Files.readAllBytes(image);
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(chunk(1, i), Arrays.copyOfRange(disk, i * CHUNK, (i + 1) * CHUNK));
        }
        // A new server binds the same path and serves the same node.
        bed.listen(UnixDomainSocketAddress.of(bed.socket), 0);
        bed.export("disk0", bed.h.onMain(() -> bed.h.graph.require("n0")), true);
        NbdTestClient.assertServes(bed.address(), "disk0", 32 << 20);
    }
}
