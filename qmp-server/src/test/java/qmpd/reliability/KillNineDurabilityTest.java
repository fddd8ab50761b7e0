package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.ret;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import qmpd.block.export.nbd.Nbd;
import qmpd.qmp.QmpClient;

/**
 * Durability under {@code kill -9}: a writer sends self-describing blocks to random places of a raw
 * file exported over NBD, pipelined, some with FUA and with a flush now and then, while qmpd is
 * killed with SIGKILL at a random moment; qmpd is restarted on the same file and every block is
 * read back through NBD and checked against {@link DurabilityModel}: a durable block holds its last
 * durable generation or a later one that was sent to it, an acknowledged block its last
 * acknowledged generation or later, and no block is torn or foreign. Repeated for
 * {@code qmpd.reliability.kills} kills per variant (default 5: page cache, and O_DIRECT with
 * {@code --state-file}; 10 in all).
 *
 * <p>The page cache survives a process kill, so this proves qmpd never acknowledges a write (or a
 * flush) before the data reached the kernel and that a restart finds it; it does not simulate a
 * power loss.
 */
class KillNineDurabilityTest {
    private static final int BLOCKS = 2048;   // 8 MiB
    private static final int WINDOW = 16;
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)   // a failure leaves the daemon's output for inspection
    Path dir;

    @Test
    void acknowledgedWritesSurviveSigkillWithThePageCache() throws Exception {
        int kills = Knobs.get("kills", 5);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(120 + 40L * kills), () -> run(false, kills));
    }

    @Test
    void acknowledgedWritesSurviveSigkillWithODirectAndAStateFile() throws Exception {
        int kills = Knobs.get("kills", 5);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(120 + 40L * kills), () -> run(true, kills));
    }

    /** Counters for the report. */
    private final Map<String, Long> stats = new java.util.TreeMap<>();

    private void count(String what, long n) {
        stats.merge(what, n, Long::sum);
    }

    private void run(boolean direct, int kills) throws Exception {
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength((long) BLOCKS * BlockPattern.SIZE);
        }
        Path qmpSock = dir.resolve("qmp.sock");
        Path nbdSock = dir.resolve("nbd.sock");
        Path state = dir.resolve("state.json");
        SocketAddress nbd = UnixDomainSocketAddress.of(nbdSock);
        DurabilityModel model = new DurabilityModel(BLOCKS);
        long seed = Long.getLong("qmpd.reliability.seed", System.nanoTime());
        System.out.println(getClass().getSimpleName() + " seed " + seed + " (-Dqmpd.reliability.seed=" + seed + " repeats its random choices)");
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] gen = {0};
        long[] handle = {0};
        for (int run = 0; run <= kills; run++) {
            List<String> args = new ArrayList<>(QmpdProcess.monitor(qmpSock));
            if (direct) {
                args.addAll(List.of("--state-file", state.toString()));
            } else {
                args.addAll(List.of("--object", "iothread,id=io0",
                        "--blockdev", "driver=file,node-name=f0,filename=" + img + ",cache.direct=off",
                        "--blockdev", "driver=raw,node-name=r0,file=f0",
                        "--nbd-server", "addr.type=unix,addr.path=" + nbdSock,
                        "--export", "type=nbd,id=e0,node-name=r0,name=disk,writable=on,iothread=io0",
                        "--pidfile", dir.resolve("qmpd.pid").toString()));
            }
            try (QmpdProcess d = QmpdProcess.start(dir, "run" + run, args)) {
                try (QmpClient c = d.qmp(qmpSock)) {
                    if (direct && run == 0) {
                        // Configured over QMP once; later starts restore it from the state file.
                        ret(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"io0\"}", null));
                        ret(c.execute("blockdev-add", "{\"driver\": \"file\", \"node-name\": \"f0\", \"filename\": \""
                                + img + "\", \"cache\": {\"direct\": true}}", null));
                        ret(c.execute("blockdev-add", "{\"driver\": \"raw\", \"node-name\": \"r0\", \"file\": \"f0\"}", null));
                        ret(c.execute("nbd-server-start", "{\"addr\": {\"type\": \"unix\", \"data\": {\"path\": \""
                                + nbdSock + "\"}}}", null));
                        ret(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"e0\", \"node-name\": \"r0\","
                                + " \"name\": \"disk\", \"writable\": true, \"iothread\": \"io0\"}", null));
                    }
                    assertEquals(direct, ret(c.execute("query-named-block-nodes", null, null)).findValues("cache")
                            .stream().anyMatch(n -> n.path("direct").asBoolean()), "cache.direct as configured");
                }
                verify(nbd, model);
                if (run == kills) {
                    assertEquals(0, d.terminate(), d.stderr());
                    break;
                }
                try (NbdWire w = NbdWire.open(nbd, "disk")) {
                    assertTrue((w.flags() & Nbd.FLAG_SEND_FUA) != 0 && (w.flags() & Nbd.FLAG_SEND_FLUSH) != 0,
                            "export offers FUA and flush");
                    long delayMs = 200 + rnd.nextLong(1300);
                    CompletableFuture<Void> killer = CompletableFuture.runAsync(() -> {
                        QmpdProcess.sleep(delayMs);
                        try {
                            d.kill9();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    });
                    write(w, model, rnd, gen, handle);
                    killer.get(60, TimeUnit.SECONDS);
                    count("kills", 1);
                }
                model.serverLost();
            }
        }
        System.out.printf("durability %s: %s%n", direct ? "cache.direct=on+state-file" : "cache.direct=off", stats);
        assertEquals(kills, stats.get("kills"));
        assertTrue(stats.getOrDefault("writes acknowledged", 0L) > 0, "writes were acknowledged: " + stats);
        assertTrue(stats.getOrDefault("durable block checks", 0L) > 0, "durable blocks were checked: " + stats);
    }

    /** Pipelined writes until the server dies; the model learns every acknowledgement. */
    private void write(NbdWire w, DurabilityModel model, SplittableRandom rnd, long[] gen, long[] handle) {
        record Op(int block, long gen, boolean fua) {
        }
        Map<Long, Op> inflight = new HashMap<>();
        Set<Integer> busy = new HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int sinceFlush = 0;
        try {
            while (true) {
                assertTrue(System.nanoTime() < deadline, "the server was not killed within 60 s");
                while (inflight.size() < WINDOW) {
                    long h = ++handle[0];
                    if (sinceFlush >= 24 && rnd.nextInt(4) == 0) {
                        model.flushSent(h);
                        inflight.put(h, new Op(-1, 0, false));
                        w.flush(h);
                        sinceFlush = 0;
                        count("flushes sent", 1);
                        continue;
                    }
                    int b;
                    do {
                        b = rnd.nextInt(BLOCKS);
                    } while (busy.contains(b));
                    long g = ++gen[0];
                    boolean fua = rnd.nextInt(4) == 0;
                    model.sent(b, g);
                    busy.add(b);
                    inflight.put(h, new Op(b, g, fua));
                    w.write(h, (long) b * BlockPattern.SIZE, BlockPattern.encode(b, g), fua);
                    sinceFlush++;
                    count("writes sent", 1);
                }
                NbdWire.Reply r = w.reply();
                Op op = inflight.remove(r.handle());
                assertTrue(op != null, "reply to an unknown handle " + r.handle());
                assertEquals(0, r.error(), "request " + op + " failed");
                if (op.block() < 0) {
                    model.flushAcked(r.handle());
                    count("flushes acknowledged", 1);
                } else {
                    busy.remove(op.block());
                    model.writeAcked(op.block(), op.gen(), op.fua());
                    count("writes acknowledged", 1);
                    count(op.fua() ? "writes acknowledged with FUA" : "writes acknowledged without FUA", 1);
                }
            }
        } catch (IOException e) {
            count("requests in flight at the kill", inflight.size());
        }
    }

    /** Reads every block back through NBD and checks it against the model. */
    private void verify(SocketAddress nbd, DurabilityModel model) throws IOException {
        Map<DurabilityModel.Verdict, List<String>> bad = new EnumMap<>(DurabilityModel.Verdict.class);
        int per = 64;
        try (NbdWire w = NbdWire.open(nbd, "disk")) {
            assertEquals((long) BLOCKS * BlockPattern.SIZE, w.size());
            for (int first = 0; first < BLOCKS; first += per) {
                byte[] data = w.readNow((long) first * BlockPattern.SIZE, per * BlockPattern.SIZE);
                for (int i = 0; i < per; i++) {
                    int b = first + i;
                    long durable = model.durable(b);
                    long acked = model.acked(b);
                    long found = BlockPattern.decode(data, i * BlockPattern.SIZE, b);
                    DurabilityModel.Verdict v = model.check(b, found);
                    if (v != DurabilityModel.Verdict.OK) {
                        bad.computeIfAbsent(v, k -> new ArrayList<>())
                                .add("block " + b + " durable " + durable + " acked " + acked + " found " + found);
                        continue;
                    }
                    if (durable > 0) {
                        count("durable block checks", 1);
                    }
                    if (acked > durable) {
                        count("acknowledged-not-durable block checks", 1);
                    }
                    if (found > acked) {
                        count("blocks holding an unacknowledged later write", 1);
                    }
                }
            }
            w.disconnect();
        }
        assertTrue(bad.isEmpty(), "losses: " + bad);
    }
}
