package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import qmpd.block.export.nbd.Nbd;
import qmpd.qmp.QmpClient;

/**
 * Disconnects and churn with leak checks: NBD clients that vanish at every stage of the handshake
 * and of transmission (FIN or RST, mid-header, with a large write half sent, with reads in flight),
 * QMP clients that vanish mid-JSON or right after sending a command, an export deleted (mode hard)
 * under a client's I/O, and the exported node moved between IOThreads while verified I/O runs on
 * it. Afterwards the daemon's file descriptors and threads are exactly what they were before (its
 * worker pools back at their idle size, zero), and its heap after a full GC has not grown beyond a
 * generous bound. {@code qmpd.reliability.churnRounds} (default 8) sets how many rounds run.
 */
class DisconnectChurnTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)   // a failure leaves the daemon's output for inspection
    Path dir;

    private final Map<String, Long> stats = new TreeMap<>();

    private void count(String what) {
        stats.merge(what, 1L, Long::sum);
    }

    @Test
    void vanishingClientsAndGraphChurnLeaveNoLeaks() throws Exception {
        int rounds = Knobs.get("churnRounds", 8);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(180 + 10L * rounds), () -> run(rounds));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void image(Path p, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    private void run(int rounds) throws Exception {
        Path qmpSock = dir.resolve("qmp.sock");
        image(dir.resolve("a.raw"), 64 << 20);
        image(dir.resolve("b.raw"), 16 << 20);
        int port = freePort();
        SocketAddress nbd = NbdWire.tcp(port);
        List<String> args = new ArrayList<>(QmpdProcess.monitor(qmpSock));
        // A second monitor for the clients that vanish: a monitor serves one client at a time (as
        // QEMU's socket chardev does), and the first one is held by the round's control client.
        Path qmp2 = dir.resolve("qmp2.sock");
        args.addAll(List.of("--chardev", "socket,path=" + qmp2 + ",server=on,wait=off,id=m1", "--monitor", "chardev=m1"));
        args.addAll(List.of("--object", "iothread,id=io0", "--object", "iothread,id=io1",
                "--blockdev", "driver=file,node-name=fa,filename=" + dir.resolve("a.raw"),
                "--blockdev", "driver=raw,node-name=ra,file=fa",
                "--blockdev", "driver=file,node-name=fb,filename=" + dir.resolve("b.raw"),
                "--blockdev", "driver=raw,node-name=rb,file=fb",
                "--nbd-server", "addr.type=inet,addr.host=127.0.0.1,addr.port=" + port,
                "--export", "type=nbd,id=ea,node-name=ra,name=a,writable=on,iothread=io0"));
        try (QmpdProcess d = QmpdProcess.start(dir, "churn", args)) {
            d.qmp(qmpSock).close();
            long seed = Long.getLong("qmpd.reliability.seed", System.nanoTime());
            System.out.println(getClass().getSimpleName() + " seed " + seed + " (-Dqmpd.reliability.seed=" + seed + " repeats its random choices)");
            SplittableRandom rnd = new SplittableRandom(seed);
            // Warm up: one round loads every class and starts every lazily started thread; jcmd
            // starts the JVM's attach listener. Then the worker pools go idle (10 s) and exit.
            round(d, qmpSock, qmp2, nbd, rnd, 0);
            long heapBefore = d.heapUsedAfterGcKb();
            long rssBefore = d.rssKb();
            Resources base = waitForIdleWorkers(d);
            System.out.println("churn baseline: " + Resources.summary(base) + ", heap after GC " + heapBefore
                    + " KiB, RSS " + rssBefore + " KiB");
            for (int r = 1; r <= rounds; r++) {
                round(d, qmpSock, qmp2, nbd, rnd, r);
            }
            Resources after = Resources.settle(d, base, 45);
            long heapAfter = d.heapUsedAfterGcKb();
            long rssAfter = d.rssKb();
            System.out.println("churn after " + rounds + " rounds: " + Resources.summary(after) + ", heap after GC "
                    + heapAfter + " KiB, RSS " + rssAfter + " KiB; " + stats);
            assertTrue(after.sameAs(base), "leaked: " + after.diff(base));
            // The heap holds no per-client state once clients are gone: a generous bound, well
            // above noise (class metadata is outside the heap; caches fill on first use, in warm-up).
            assertTrue(heapAfter < heapBefore + 16 * 1024, "heap after GC grew from " + heapBefore + " to "
                    + heapAfter + " KiB");
            try (QmpClient c = d.qmp(qmpSock)) {
                assertEquals("running", ret(c.execute("query-status", null, null)).get("status").asText());
                JsonNode threads = ret(c.execute("query-iothreads", null, null));
                // QEMU lists IOThreads in no particular order (a hash table of /objects).
                assertEquals(List.of("io0", "io1"), threads.findValuesAsText("id").stream().sorted().toList(),
                        threads.toString());
                for (JsonNode t : threads) {
                    assertEquals("iothread-" + t.get("id").asText(), java.nio.file.Files.readString(Path.of(
                            "/proc/" + d.pid() + "/task/" + t.get("thread-id").asLong() + "/comm")).strip());
                }
            }
            assertEquals(0, d.terminate(), d.stderr());
        }
    }

    static Resources waitForIdleWorkers(QmpdProcess d) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Resources r = Resources.of(d);
        while (Resources.workers(r.threads()) > 0 && System.nanoTime() < deadline) {
            QmpdProcess.sleep(250);
            r = Resources.of(d);
        }
        assertEquals(0, Resources.workers(r.threads()), "worker pools idle: " + r.threads());
        return r;
    }

    /** One round: verified I/O on ea runs throughout; everything else comes and goes around it. */
    private void round(QmpdProcess d, Path qmpSock, Path qmp2, SocketAddress nbd, SplittableRandom rnd, int round)
            throws Exception {
        List<VerifiedIo> io = List.of(new VerifiedIo(nbd, "a", 0, 256).start("io-a0"),
                new VerifiedIo(nbd, "a", 256, 256).start("io-a1"));
        try (QmpClient c = d.qmp(qmpSock)) {
            // The second export comes and goes under a client's I/O.
            ret(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"eb\", \"node-name\": \"rb\","
                    + " \"name\": \"b\", \"writable\": true, \"iothread\": \"io1\"}", null));
            VerifiedIo onB = new VerifiedIo(nbd, "b", 0, 512).start("io-b");
            nbdVanishing(nbd, rnd);
            qmpVanishing(qmp2, rnd);
            for (int i = 0; i < 4; i++) {
                // The exported node moves between IOThreads while its clients run.
                ret(c.execute("x-blockdev-set-iothread", "{\"node-name\": \"ra\", \"iothread\": \"io" + (i % 2 == 0 ? 1 : 0)
                        + "\", \"force\": true}", null));
                count("node moves between IOThreads");
            }
            ret(c.execute("block-export-del", "{\"id\": \"eb\", \"mode\": \"hard\"}", null));
            awaitExportGone(c, "eb");
            onB.stop();
            Throwable t = onB.failure();
            assertTrue(t == null || t instanceof IOException, () -> "client of the deleted export saw " + t);
            count(t == null ? "export deleted after its client finished" : "export deleted under a client's I/O");
            ret(c.execute("query-block", null, null));
            ret(c.execute("query-blockstats", null, null));
        }
        for (VerifiedIo v : io) {
            v.stop();
            assertNull(v.failure(), () -> "verified I/O failed in round " + round + ": " + v.failure());
            stats.merge("verified reads", v.verified(), Long::sum);
        }
        assertTrue(d.isAlive(), d.stderr());
    }

    private static void awaitExportGone(QmpClient c, String id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            JsonNode list = ret(c.execute("query-block-exports", null, null));
            if (list.findValues("id").stream().noneMatch(n -> n.asText().equals(id))) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "export " + id + " still listed: " + list);
            QmpdProcess.sleep(20);
        }
    }

    /** Every way an NBD client can vanish, each ended by a FIN or an RST at random. */
    private void nbdVanishing(SocketAddress nbd, SplittableRandom rnd) throws IOException {
        byte[] goA = goOption("a");
        for (int stage = 0; stage < 10; stage++) {
            NbdWire w = NbdWire.connect(nbd);
            ByteBuffer greeting = ByteBuffer.allocate(18);
            switch (stage) {
                case 0 -> count("nbd: gone before the greeting");
                case 1 -> {
                    readFully(w, greeting);
                    count("nbd: gone after the greeting");
                }
                case 2 -> {
                    readFully(w, greeting);
                    w.write(ByteBuffer.wrap(new byte[] {0, 0}));
                    count("nbd: gone mid client flags");
                }
                case 3 -> {
                    readFully(w, greeting);
                    w.write(ByteBuffer.allocate(4 + 10).putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)
                            .put(goA, 0, 10).flip());
                    count("nbd: gone mid option header");
                }
                case 4 -> {
                    readFully(w, greeting);
                    w.write(ByteBuffer.allocate(4 + goA.length - 3).putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)
                            .put(goA, 0, goA.length - 3).flip());
                    count("nbd: gone mid option data");
                }
                default -> {
                    w.close();
                    w = NbdWire.open(nbd, "a");
                    transmissionVanishing(w, stage);
                }
            }
            if (rnd.nextBoolean()) {
                w.reset();
                count("nbd: ended by RST");
            } else {
                w.close();
                count("nbd: ended by FIN");
            }
        }
    }

    private void transmissionVanishing(NbdWire w, int stage) throws IOException {
        switch (stage) {
            case 5 -> count("nbd: gone idle after NBD_OPT_GO");
            case 6 -> {
                w.write(ByteBuffer.allocate(12).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) Nbd.CMD_WRITE).putInt(7).flip());
                count("nbd: gone mid request header");
            }
            case 7 -> {
                int len = 1 << 20;
                w.write(ByteBuffer.allocate(28 + len / 2).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) Nbd.CMD_WRITE).putLong(1).putLong(32L << 20).putInt(len)
                        .position(28 + len / 2).flip());
                count("nbd: gone with a 1 MiB write half sent");
            }
            case 8 -> {
                for (int i = 0; i < 8; i++) {
                    w.read(i, (long) i << 20, 1 << 20);
                }
                count("nbd: gone with 8 MiB of reads in flight");
            }
            default -> {
                for (int i = 0; i < 8; i++) {
                    w.write(i, (32L + i) << 20, new byte[256 << 10], false);
                }
                w.flush(99);
                count("nbd: gone with writes and a flush in flight");
            }
        }
    }

    private static byte[] goOption(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(16 + 4 + n.length + 2).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO)
                .putInt(4 + n.length + 2).putInt(n.length).put(n).putShort((short) 0).array();
    }

    private static void readFully(NbdWire w, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (w.raw().read(b) < 0) {
                throw new IOException("closed during the greeting");
            }
        }
    }

    /** QMP clients that vanish before the greeting, mid-JSON, and right after sending commands. */
    private void qmpVanishing(Path qmpSock, SplittableRandom rnd) throws IOException {
        QmpClient.connect(qmpSock).close();
        count("qmp: gone before the greeting");
        try (QmpClient c = QmpClient.connect(qmpSock)) {
            c.next();
            c.send("{\"execute\": \"qmp_capabilities\", \"argum");
            count("qmp: gone mid-JSON before negotiation");
        }
        try (QmpClient c = QmpClient.negotiated(qmpSock, false)) {
            c.send("{\"execute\": \"query-blockstats\", \"arguments\": {\"query-nodes\": tr");
            count("qmp: gone mid-JSON");
        }
        try (QmpClient c = QmpClient.negotiated(qmpSock, false)) {
            // A command that drains the node's I/O, sent with queries behind it; nobody reads the replies.
            c.send("{\"execute\": \"x-blockdev-set-iothread\", \"arguments\": {\"node-name\": \"ra\", \"iothread\": \"io"
                    + rnd.nextInt(2) + "\", \"force\": true}}\n{\"execute\": \"query-block\"}\n"
                    + "{\"execute\": \"query-named-block-nodes\"}\n");
            count("qmp: gone right after a draining command");
        }
    }
}
