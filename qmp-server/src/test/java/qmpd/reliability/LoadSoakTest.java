package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.ret;

import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * A bounded load soak: 64 NBD connections doing verified I/O (write a pattern, read it back,
 * compare) on two exports in two IOThreads, while 16 QMP clients (one per monitor) query
 * (query-iothreads, query-block, query-blockstats, query-block-exports) and change things
 * (IOThreads added and deleted, a third export added and deleted). No client may see an error or
 * wrong data; once they leave, fds and threads are back at their baseline; the heap after a full
 * GC stays within a generous bound and RSS, sampled every 5 s, stops growing once the heap has
 * grown to its working size. {@code qmpd.reliability.soakSeconds} (default 60) sets the length.
 */
class LoadSoakTest {
    private static final int NBD_CLIENTS = 64;
    private static final int QMP_CLIENTS = 16;
    private static final int BLOCKS_PER_CLIENT = 64;
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)   // a failure leaves the daemon's output for inspection
    Path dir;

    @Test
    void sixtyFourNbdAndSixteenQmpClientsRunCleanAndLeaveNothingBehind() throws Exception {
        int seconds = Knobs.get("soakSeconds", 60);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(240 + 2L * seconds), () -> run(seconds));
    }

    /** One QMP client's loop: queries, and now and then a change; every reply must be a success. */
    private static final class QmpLoad {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong commands = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread;

        QmpLoad start(Path sock, int index) {
            thread = Thread.ofPlatform().daemon(true).name("qmp-load-" + index).start(() -> {
                try (QmpClient c = QmpClient.negotiated(sock, false)) {
                    String[] queries = {"query-iothreads", "query-block", "query-blockstats", "query-block-exports"};
                    for (long i = 0; !stop.get(); i++) {
                        ret(c.execute(queries[(int) (i % queries.length)], null, null));
                        if (i % 8 == 7) {
                            if (index == 0) {
                                ret(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"eb\", \"node-name\": \"rb\","
                                        + " \"name\": \"b\", \"writable\": true}", null));
                                ret(c.execute("block-export-del", "{\"id\": \"eb\"}", null));
                                awaitGone(c);
                            } else {
                                String id = "t" + index;
                                ret(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"" + id + "\"}", null));
                                ret(c.execute("object-del", "{\"id\": \"" + id + "\"}", null));
                            }
                            commands.addAndGet(2);
                        }
                        commands.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            return this;
        }

        /** block-export-del finishes asynchronously (BLOCK_EXPORT_DELETED); the id is reusable after. */
        private static void awaitGone(QmpClient c) {
            while (ret(c.execute("query-block-exports", null, null)).findValues("id").stream()
                    .anyMatch(n -> n.asText().equals("eb"))) {
                QmpdProcess.sleep(5);
            }
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(60_000);
            if (thread.isAlive()) {
                failure.compareAndSet(null, new AssertionError("QMP load client did not stop"));
            }
        }
    }

    private void run(int seconds) throws Exception {
        DisconnectChurnTest.image(dir.resolve("a.raw"), (long) NBD_CLIENTS / 2 * BLOCKS_PER_CLIENT * BlockPattern.SIZE);
        DisconnectChurnTest.image(dir.resolve("c.raw"), (long) NBD_CLIENTS / 2 * BLOCKS_PER_CLIENT * BlockPattern.SIZE);
        DisconnectChurnTest.image(dir.resolve("b.raw"), 1 << 20);
        int port = DisconnectChurnTest.freePort();
        SocketAddress nbd = NbdWire.tcp(port);
        List<String> args = new ArrayList<>();
        List<Path> monitors = new ArrayList<>();
        for (int i = 0; i < QMP_CLIENTS; i++) {
            Path sock = dir.resolve("qmp" + i + ".sock");
            monitors.add(sock);
            args.addAll(List.of("--chardev", "socket,path=" + sock + ",server=on,wait=off,id=m" + i,
                    "--monitor", "chardev=m" + i));
        }
        args.addAll(List.of("--object", "iothread,id=io0", "--object", "iothread,id=io1",
                "--blockdev", "driver=file,node-name=fa,filename=" + dir.resolve("a.raw"),
                "--blockdev", "driver=raw,node-name=ra,file=fa",
                "--blockdev", "driver=file,node-name=fc,filename=" + dir.resolve("c.raw"),
                "--blockdev", "driver=raw,node-name=rc,file=fc",
                "--blockdev", "driver=file,node-name=fb,filename=" + dir.resolve("b.raw"),
                "--blockdev", "driver=raw,node-name=rb,file=fb",
                "--nbd-server", "addr.type=inet,addr.host=127.0.0.1,addr.port=" + port,
                "--export", "type=nbd,id=ea,node-name=ra,name=a,writable=on,iothread=io0",
                "--export", "type=nbd,id=ec,node-name=rc,name=c,writable=on,iothread=io1"));
        try (QmpdProcess d = QmpdProcess.start(dir, "soak", args)) {
            d.qmp(monitors.get(QMP_CLIENTS - 1)).close();
            // Warm-up: a few seconds of the full load start every lazily started thread.
            load(d, nbd, monitors, 3, null);
            long heapBefore = d.heapUsedAfterGcKb();
            Resources base = DisconnectChurnTest.waitForIdleWorkers(d);
            System.out.println("soak baseline: " + Resources.summary(base) + ", heap after GC " + heapBefore + " KiB");
            List<Long> rss = new ArrayList<>();
            String figures = load(d, nbd, monitors, seconds, rss);
            Resources after = Resources.settle(d, base, 45);
            long heapAfter = d.heapUsedAfterGcKb();
            System.out.println("soak " + seconds + " s: " + figures + "; RSS KiB every 5 s " + rss + "; after: "
                    + Resources.summary(after) + ", heap after GC " + heapAfter + " KiB");
            assertTrue(after.sameAs(base), "leaked: " + after.diff(base));
            assertTrue(heapAfter < heapBefore + 16 * 1024, "heap after GC grew from " + heapBefore + " to "
                    + heapAfter + " KiB");
            // RSS: the JVM grows its heap to the working size and seldom gives it back, so the
            // bound is on growth in the second half of the soak over the first half's peak.
            int half = rss.size() / 2;
            long firstPeak = rss.subList(0, Math.max(1, half)).stream().mapToLong(Long::longValue).max().orElseThrow();
            long secondPeak = rss.subList(half, rss.size()).stream().mapToLong(Long::longValue).max().orElseThrow();
            assertTrue(secondPeak <= firstPeak + 128 * 1024, "RSS kept growing: " + rss);
            assertEquals(0, d.terminate(), d.stderr());
        }
    }

    /** Runs the whole load for {@code seconds}, sampling RSS every 5 s into {@code rss} if given. */
    private static String load(QmpdProcess d, SocketAddress nbd, List<Path> monitors, int seconds, List<Long> rss)
            throws Exception {
        List<VerifiedIo> io = new ArrayList<>();
        for (int i = 0; i < NBD_CLIENTS; i++) {
            String export = i % 2 == 0 ? "a" : "c";
            io.add(new VerifiedIo(nbd, export, i / 2 * BLOCKS_PER_CLIENT, BLOCKS_PER_CLIENT).start("nbd-load-" + i));
        }
        List<QmpLoad> qmp = new ArrayList<>();
        for (int i = 0; i < monitors.size(); i++) {
            qmp.add(new QmpLoad().start(monitors.get(i), i));
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long next = System.nanoTime();
        while (System.nanoTime() < end) {
            if (rss != null && System.nanoTime() >= next) {
                rss.add(d.rssKb());
                next += TimeUnit.SECONDS.toNanos(5);
            }
            assertTrue(d.isAlive(), d.stderr());
            QmpdProcess.sleep(100);
        }
        long verified = 0;
        long commands = 0;
        for (VerifiedIo v : io) {
            v.stop();
            assertNull(v.failure(), () -> "NBD client failed: " + v.failure());
            verified += v.verified();
        }
        for (QmpLoad q : qmp) {
            q.stop();
            assertNull(q.failure.get(), () -> "QMP client failed: " + q.failure.get());
            commands += q.commands.get();
        }
        return NBD_CLIENTS + " NBD connections, " + verified + " verified reads, " + monitors.size()
                + " QMP clients, " + commands + " commands, 0 errors";
    }
}
