package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.block.BlockNode;
import qmpd.loop.IOThread;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node moved between IOThreads and the main loop while a client keeps requests in flight: the
 * connection follows the node, every request is answered, and the data is all there.
 */
@Timeout(60)
class ClientsFollowContextMoveTest {

    private static final int CHUNK = 64 << 10;

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @AfterEach
    void tearDown() throws Exception {
        NbdTestClient.assertServes(bed.address(), "disk0", 0);
        bed.close();
    }

    private static byte[] chunk(long i) {
        byte[] b = new byte[CHUNK];
        Arrays.fill(b, (byte) (i % 251 + 1));
        return b;
    }

    @Test
    void busyClientFollowsTheNodeAcrossContexts() throws Exception {
        bed = NbdTestBed.unix(dir);
        Path image = bed.sparseFile("disk.raw", 16 << 20);
        BlockNode node = bed.raw("n0", image);
        bed.export("disk0", node, true);
        IOThread io1 = bed.h.iothread("io1");
        AtomicBoolean moving = new AtomicBoolean(true);
        AtomicLong replied = new AtomicLong();

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
             NbdTestClient c = NbdTestClient.go(bed.address(), "disk0", true)) {
            Future<Long> client = pool.submit(() -> {
                long sent = 0;
                long done = 0;
                int chunks = (16 << 20) / CHUNK;
                while (moving.get() || done < sent) {
                    while (moving.get() && sent - done < 8) {
                        c.request(Nbd.CMD_WRITE, 0, sent, (sent % chunks) * CHUNK, CHUNK, chunk(sent));
                        sent++;
                    }
                    assertEquals(0, c.reply().error());
                    done++;
                    replied.set(done);
                }
                return done;
            });
            for (int i = 0; i < 20; i++) {
                // Each move happens under traffic: wait for a reply since the previous move (the
                // client may not even have started yet; moves alone take well under a millisecond).
                long seen = replied.get();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (replied.get() == seen && !client.isDone()) {
                    assertTrue(System.nanoTime() < deadline, "no reply since move " + i);
                    Thread.sleep(1);
                }
                var target = switch (i % 3) {
                    case 0 -> io1.context();
                    case 1 -> bed.h.mainLoop.context();
                    default -> bed.io.context();
                };
                bed.h.onMain(() -> bed.h.graph.setContext(node, target));
                assertEquals(target, bed.h.onMain(node::context));
            }
            moving.set(false);
            long done = client.get(30, TimeUnit.SECONDS);
            assertTrue(done > 0);
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            // The last write of each chunk is in the file: read back through the export too.
            int chunks = (16 << 20) / CHUNK;
            byte[] disk = Files.readAllBytes(image);
            for (long w = Math.max(0, done - chunks); w < done; w++) {
                int off = (int) ((w % chunks) * CHUNK);
                assertArrayEquals(chunk(w), Arrays.copyOfRange(disk, off, off + CHUNK), "write " + w);
            }
        }
    }

    /**
     * Back-to-back moves between two IOThreads with idle clients: the attach of one move schedules
     * the socket's hand-over in the new context, and the next move's detach can run before it.
     * That stale hand-over must not install the socket in a context the node has left (it did:
     * the next detach then failed with "AioContext 'io1' used from main-loop without acquire()",
     * and the client was served by the wrong thread).
     */
    @Test
    void idleClientsStayWithTheNodeThroughBackToBackMoves() throws Exception {
        bed = NbdTestBed.unix(dir);
        BlockNode node = bed.raw("n0", bed.sparseFile("disk.raw", 1 << 20));
        bed.export("disk0", node, true);
        IOThread io1 = bed.h.iothread("io1");
        java.util.List<NbdTestClient> clients = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                clients.add(NbdTestClient.go(bed.address(), "disk0", true));
            }
            for (int round = 0; round < 20; round++) {
                bed.h.onMain(() -> {
                    for (int i = 0; i < 200; i++) {
                        bed.h.graph.setContext(node, i % 2 == 0 ? io1.context() : bed.io.context());
                    }
                    return null;
                });
                for (NbdTestClient c : clients) {
                    assertEquals(0, c.call(Nbd.CMD_READ, 0, 0, 4096, null).error(), "round " + round);
                }
            }
        } finally {
            for (NbdTestClient c : clients) {
                c.close();
            }
        }
    }
}
