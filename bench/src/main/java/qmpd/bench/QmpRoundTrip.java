package qmpd.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

/**
 * A QMP round-trip load generator: each client owns one monitor socket (a QMP monitor serves one
 * client at a time), negotiates, then sends one command at a time and waits for its reply.
 *
 * <p>Usage: {@code QmpRoundTrip --command query-version --seconds 5 SOCKET...}; one client per socket,
 * all running together. Prints one JSON line: total round trips, rate, latency percentiles (µs).
 *
 * <p>The client is deliberately simple and allocation-light (a reused direct buffer, a CRLF scan),
 * so it costs far less CPU per round trip than either server it drives.
 */
public final class QmpRoundTrip {

    private QmpRoundTrip() {
    }

    /** One connected, negotiated QMP session. Not thread-safe: one thread drives it. */
    static final class Session implements AutoCloseable {
        private final SocketChannel channel;
        private final ByteBuffer in = ByteBuffer.allocateDirect(1 << 20);
        private final ByteBuffer request;

        Session(Path socket, String command) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            in.flip();
            String greeting = readMessage();
            if (!greeting.contains("\"QMP\"")) {
                throw new IOException("no QMP greeting: " + greeting);
            }
            send(ByteBuffer.wrap("{\"execute\": \"qmp_capabilities\"}\r\n".getBytes(StandardCharsets.US_ASCII)));
            String reply = readReply();
            if (!reply.contains("\"return\"")) {
                throw new IOException("negotiation failed: " + reply);
            }
            byte[] req = ("{\"execute\": \"" + command + "\"}\r\n").getBytes(StandardCharsets.US_ASCII);
            request = ByteBuffer.allocateDirect(req.length).put(req).flip();
        }

        /** One round trip; returns false if the reply was an error. */
        boolean roundTrip() throws IOException {
            send(request.rewind());
            return readReply().startsWith("{\"return\"");
        }

        private void send(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }

        /** Reads messages until one that is not an event. */
        private String readReply() throws IOException {
            while (true) {
                String m = readMessage();
                if (!m.startsWith("{\"timestamp\"") && !m.contains("\"event\"")) {
                    return m;
                }
            }
        }

        /** Reads up to and including the next CRLF; returns the message without it. */
        private String readMessage() throws IOException {
            while (true) {
                for (int i = in.position(); i < in.limit() - 1; i++) {
                    if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                        byte[] line = new byte[i - in.position()];
                        in.get(line);
                        in.position(i + 2);
                        return new String(line, StandardCharsets.US_ASCII);
                    }
                }
                in.compact();
                if (channel.read(in) < 0) {
                    throw new IOException("server closed the connection");
                }
                in.flip();
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    public static void main(String[] args) throws Exception {
        String command = "query-version";
        double seconds = 5;
        List<Path> sockets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--command" -> command = args[++i];
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> sockets.add(Path.of(args[i]));
            }
        }
        if (sockets.isEmpty()) {
            System.err.println("usage: QmpRoundTrip [--command NAME] [--seconds S] SOCKET...");
            System.exit(2);
        }
        int n = sockets.size();
        long[][] latencies = new long[n][];
        int[] counts = new int[n];
        int[] errors = new int[n];
        CyclicBarrier start = new CyclicBarrier(n);
        long durationNs = (long) (seconds * 1e9);
        Thread[] threads = new Thread[n];
        Exception[] failure = new Exception[1];
        final String cmd = command;
        for (int t = 0; t < n; t++) {
            final int id = t;
            threads[t] = Thread.ofPlatform().name("qmp-client-" + t).start(() -> {
                long[] lat = new long[1 << 20];
                int count = 0;
                try (Session s = new Session(sockets.get(id), cmd)) {
                    start.await();
                    long end = System.nanoTime() + durationNs;
                    long now = System.nanoTime();
                    while (now < end) {
                        if (!s.roundTrip()) {
                            errors[id]++;
                        }
                        long after = System.nanoTime();
                        if (count == lat.length) {
                            lat = Arrays.copyOf(lat, lat.length * 2);
                        }
                        lat[count++] = after - now;
                        now = after;
                    }
                } catch (Exception e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
                latencies[id] = Arrays.copyOf(lat, count);
                counts[id] = count;
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure[0] != null) {
            System.err.println("qmp-roundtrip: " + failure[0]);
            System.exit(1);
        }
        long total = Arrays.stream(counts).asLongStream().sum();
        long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        System.out.println(String.format(Locale.ROOT,
                "{\"command\": \"%s\", \"clients\": %d, \"seconds\": %.1f, \"round_trips\": %d, \"errors\": %d,"
                        + " \"rate\": %.0f, \"p50_us\": %.1f, \"p99_us\": %.1f}",
                command, n, seconds, total, Arrays.stream(errors).sum(), total / seconds,
                percentile(all, 0.50) / 1e3, percentile(all, 0.99) / 1e3));
    }

    private static double percentile(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))];
    }
}
