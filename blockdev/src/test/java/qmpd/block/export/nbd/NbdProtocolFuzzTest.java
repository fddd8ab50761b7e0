package qmpd.block.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import qmpd.config.fuzz.FuzzInput;
import qmpd.config.fuzz.FuzzRuns;

/**
 * Fuzzes the NBD server over a real UNIX socket, handshake and transmission. Each input is a byte
 * stream a client sends after the greeting: raw bytes, or generated options and requests (mostly
 * well-formed, with odd codes, flags, lengths and offsets) after a real handshake, with raw bytes
 * spliced in. The client writes it all, then shuts down its writing side, reading whatever comes
 * back. Properties, per input:
 * <ul>
 *   <li>the server never wedges: after the client's EOF it closes the connection within 20 s
 *       (whatever state the stream left it in: mid-option, mid-payload, transmission);</li>
 *   <li>a well-behaved client, connected for the whole run, still gets its READ answered;</li>
 * </ul>
 * and after the run the server holds exactly the well-behaved connection, and the process has the
 * sockets and platform threads it had before (no leak).
 */
class NbdProtocolFuzzTest {
    private static final int SIZE = 8 << 20;
    private static final List<Long> OFFSETS = List.of(0L, 512L, 4096L, (long) SIZE - 512, (long) SIZE,
            (long) SIZE + 1, Long.MAX_VALUE, -1L, 1L << 32);
    private static final List<Integer> LENGTHS = List.of(0, 1, 511, 512, 4096, 65536, 1 << 20,
            (32 << 20) + 1, -1, 1 << 31);
    private static final List<String> NAMES = List.of("disk0", "ro", "", "nosuch", "x".repeat(4097));
    private static final List<byte[]> DICTIONARY = FuzzRuns.words("IHAVEOPT", "NBDMAGIC", "disk0", "ro",
            "base:allocation", "qemu:dirty-bitmap:", "\u0000\u0000\u0000\u0007", "\u0000\u0000\u0000\u0001",
            "\u0025\u0060\u0095\u0013", "\u0000\u0003", "\u00ff\u00ff\u00ff\u00ff");
    private static final Bed B = new Bed();

    /** The server, two exports and a well-behaved client, shared by every input. */
    private static final class Bed {
        final Path dir;
        final NbdTestBed bed;
        final NbdTestClient wellBehaved;

        Bed() {
            try {
                dir = Files.createTempDirectory("nbd-fuzz");
                bed = NbdTestBed.unix(dir);
                bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", SIZE)), true);
                bed.export("ro", bed.nullCo("n1", SIZE), false);
                wellBehaved = NbdTestClient.go(bed.address(), "disk0", true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @AfterAll
    static void stop() throws IOException {
        B.wellBehaved.close();
        B.bed.close();
        try (var files = Files.walk(B.dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** What the client sends after reading the greeting. */
    static byte[] stream(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int mode = in.nextInt(4);
        if (mode == 0) {
            out.writeBytes(in.rest());
            return out.toByteArray();
        }
        out.writeBytes(ByteBuffer.allocate(4).putInt(in.nextInt(8) == 0 ? in.nextByte()
                : Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES).array());
        if (mode == 1) {
            for (int n = in.nextInt(6); n > 0; n--) {
                option(in, out);
            }
        } else {
            if (in.nextBoolean()) {
                out.writeBytes(option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]));
            }
            String name = in.nextInt(8) == 0 ? in.pick(NAMES) : in.nextBoolean() ? "disk0" : "ro";
            out.writeBytes(mode == 2 ? option(Nbd.OPT_GO, NbdTestClient.goData(name))
                    : option(Nbd.OPT_EXPORT_NAME, name.getBytes(StandardCharsets.UTF_8)));
            for (int n = in.nextInt(12); n > 0; n--) {
                request(in, out);
            }
        }
        out.writeBytes(in.nextBytes(256));
        return out.toByteArray();
    }

    private static byte[] option(int code, byte[] payload) {
        return ByteBuffer.allocate(16 + payload.length).putLong(Nbd.IHAVEOPT).putInt(code).putInt(payload.length)
                .put(payload).array();
    }

    private static void option(FuzzInput in, ByteArrayOutputStream out) {
        int code = in.nextInt(8) == 0 ? (int) in.nextLong() : in.nextInt(12);
        byte[] payload = switch (in.nextInt(4)) {
            case 0 -> NbdTestClient.goData(in.pick(NAMES), in.nextInt(5), in.nextInt(5));
            case 1 -> NbdTestClient.metaData(in.pick(NAMES), "base:allocation",
                    in.pick(List.of("base:", "qemu:dirty-bitmap:x", "", "qemu:")));
            case 2 -> in.pick(NAMES).getBytes(StandardCharsets.UTF_8);
            default -> in.nextBytes(64);
        };
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length).putLong(in.nextInt(16) == 0 ? in.nextLong()
                : Nbd.IHAVEOPT).putInt(code);
        int len = in.nextInt(8) == 0 ? in.pick(LENGTHS) : payload.length;
        out.writeBytes(b.putInt(len).put(payload).array());
    }

    private static void request(FuzzInput in, ByteArrayOutputStream out) {
        int type = in.nextInt(8) == 0 ? in.nextInt(1 << 16) : in.nextInt(8);
        int flags = in.nextInt(4) == 0 ? in.nextInt(1 << 16) : in.nextInt(32);
        long offset = in.nextInt(4) == 0 ? in.nextLong() : in.pick(OFFSETS);
        int length = in.pick(LENGTHS);
        ByteBuffer b = ByteBuffer.allocate(28).putInt(in.nextInt(32) == 0 ? (int) in.nextLong() : Nbd.REQUEST_MAGIC)
                .putShort((short) flags).putShort((short) type).putLong(in.nextLong()).putLong(offset).putInt(length);
        out.writeBytes(b.array());
        if (type == Nbd.CMD_WRITE && length >= 0 && length <= 65536) {
            out.writeBytes(new byte[length]);
        }
    }

    @FuzzTest(maxDuration = "60s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void nbdStream(byte[] data) throws Exception {
        byte[] stream = stream(data);
        try (SocketChannel ch = SocketChannel.open(B.bed.address())) {
            ByteBuffer greeting = ByteBuffer.allocate(18);
            while (greeting.hasRemaining() && ch.read(greeting) >= 0) {
                // blocking; bounded by the test's timeout
            }
            // The server may answer a lot (32 MiB reads) and stop reading until we do: read and
            // write at once, each bounded.
            FutureTask<Long> drain = new FutureTask<>(() -> {
                ByteBuffer sink = ByteBuffer.allocate(1 << 16);
                long total = 0;
                try {
                    for (int n; (n = ch.read(sink.clear())) >= 0; ) {
                        total += n;
                    }
                } catch (IOException e) {
                    // reset by the server: closed all the same
                }
                return total;
            });
            Thread.ofVirtual().name("nbd-fuzz-drain").start(drain);
            try {
                ch.write(ByteBuffer.wrap(stream));
                ch.shutdownOutput();
            } catch (IOException e) {
                // the server already dropped us (bad magic, a fatal option): allowed
            }
            await(drain, "the server to close the connection after the client's EOF");
        }
        NbdTestClient.Reply r = B.wellBehaved.call(Nbd.CMD_READ, 0, 0, 4096, null);
        assertEquals(0, r.error(), "the well-behaved client is served");
    }

    private static void await(Future<?> f, String what) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out waiting for " + what);
        } catch (ExecutionException e) {
            throw new AssertionError(what, e.getCause());
        }
    }

    private static long sockets() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false;   // closed while listing
                }
            }).count();
        }
    }

    /**
     * Platform threads, less the JDK's virtual-thread machinery (the drain threads are virtual) and
     * the IOThread's pool workers, which come and go with load and retire after QEMU's idle timeout:
     * {@link #poolWorkers} checks those stay within the pool's bound instead.
     */
    private static java.util.SortedSet<String> platformThreads() {
        return new java.util.TreeSet<>(Thread.getAllStackTraces().keySet().stream()
                .map(t -> t.getName() + "#" + t.threadId())
                .filter(n -> !n.startsWith("ForkJoinPool") && !n.startsWith("MasterPoller")
                        && !n.startsWith("VirtualThread-unblocker") && !n.startsWith("worker-"))
                .toList());
    }

    private static long poolWorkers() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("worker-io0-")).count();
    }

    @Test
    @Timeout(180)
    void nbdStreamRandomRun() throws Exception {
        long sockets = sockets();
        var threads = platformThreads();
        FuzzRuns.run(getClass(), "nbdStream", 4_000, 2048, DICTIONARY, this::nbdStream);
        B.bed.awaitConnections(1);
        assertEquals(sockets, sockets(), "sockets after the run (the listener and the well-behaved pair)");
        assertEquals(threads, platformThreads(), "platform threads after the run");
        long workers = poolWorkers();
        org.junit.jupiter.api.Assertions.assertTrue(workers <= qmpd.aio.pool.ThreadPool.DEFAULT_MAX_THREADS,
                "pool workers within the pool's bound: " + workers);
        NbdTestClient.assertServes(B.bed.address(), "disk0", 8192);
    }
}
