package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Sixteen clients at once on one IOThread export, each pipelining writes to its own region and
 * reading them back; afterwards the file holds every region. One connection's flush covers the
 * others' completed writes (the export advertises CAN_MULTI_CONN).
 */
@Timeout(60)
class ManyConnectionsTest {

    private static final int CLIENTS = 16;
    private static final int REGION = 2 << 20;
    private static final int CHUNK = 64 << 10;
    private static final int DEPTH = 8;

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @AfterEach
    void tearDown() throws IOException {
        NbdTestClient.assertServes(bed.address(), "disk0", 0);
        bed.close();
    }

    private static byte[] chunk(int client, int index) {
        byte[] b = new byte[CHUNK];
        Arrays.fill(b, (byte) (client * 16 + index % 16 + 1));
        return b;
    }

    /** Writes its region with DEPTH requests in flight, then reads every chunk back. */
    private Void client(int id) throws IOException {
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", id % 2 == 0)) {
            int chunks = REGION / CHUNK;
            long base = (long) id * REGION;
            int sent = 0;
            int acked = 0;
            while (acked < chunks) {
                while (sent < chunks && sent - acked < DEPTH) {
                    c.request(Nbd.CMD_WRITE, 0, sent, base + (long) sent * CHUNK, CHUNK, chunk(id, sent));
                    sent++;
                }
                assertEquals(0, c.reply().error(), "write of client " + id);
                acked++;
            }
            for (int i = 0; i < chunks; i++) {
                c.request(Nbd.CMD_READ, 0, 1000 + i, base + (long) i * CHUNK, CHUNK, null);
            }
            for (int i = 0; i < chunks; i++) {
                NbdTestClient.Reply r = c.reply();
                assertArrayEquals(chunk(id, (int) r.handle() - 1000), r.data(), "read back by client " + id);
            }
        }
        return null;
    }

    @Test
    void sixteenClientsWriteTheirOwnRegionsConcurrently() throws Exception {
        bed = NbdTestBed.unix(dir);
        Path image = bed.sparseFile("disk.raw", (long) CLIENTS * REGION);
        bed.export("disk0", bed.raw("n0", image), true);

        List<Future<Void>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                results.add(pool.submit(() -> client(id)));
            }
            for (Future<Void> f : results) {
                f.get(45, TimeUnit.SECONDS);
            }
        }
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", false)) {
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
        }
        byte[] disk = Files.readAllBytes(image);
        for (int id = 0; id < CLIENTS; id++) {
            for (int i = 0; i < REGION / CHUNK; i++) {
                int off = id * REGION + i * CHUNK;
                assertArrayEquals(chunk(id, i), Arrays.copyOfRange(disk, off, off + CHUNK), "client " + id + " chunk " + i);
            }
        }
    }
}
