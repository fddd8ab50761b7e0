package qmpd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import qmpd.config.cli.CommandLine;

/**
 * The training run {@code bin/qmpd} makes under {@code -XX:AOTCacheOutput}: the embedded default
 * starts in this JVM exactly as {@code bin/qmpd} starts it, then a short scripted session uses
 * what a client uses first (QMP negotiation, queries, an error reply, the HTTP gateway and a
 * metrics scrape), and {@code quit} ends the process, which is when the JVM writes its
 * ahead-of-time cache. A later start with {@code -XX:AOTCache} finds those classes already
 * loaded and linked, with their profiles.
 *
 * <p>Run with {@code QMPD_RUNTIME_DIR} set to a private directory and {@code QMPD_HTTP_PORT=0},
 * so it never meets a running daemon. It exits with 0 after {@code quit}, 1 if anything fails.
 */
final class AotTraining {
    /** What the session sends after negotiation; each line must get an answer. */
    private static final List<String> SESSION = List.of(
            "{\"execute\": \"query-version\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"query-iothreads\"}",
            "{\"execute\": \"query-block\"}",
            "{\"execute\": \"query-named-block-nodes\"}",
            "{\"execute\": \"query-block-exports\"}",
            "{\"execute\": \"query-blockstats\", \"arguments\": {\"query-nodes\": true}}",
            "{\"execute\": \"query-commands\"}",
            "{\"execute\": \"query-qmp-schema\"}",
            "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/objects\"}}",
            "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\", \"id\": \"aot-training\"}}",
            "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"aot-training\"}}",
            "{\"execute\": \"no-such-command\", \"id\": 1}",
            "{\"execute\": \"query-version\", \"arguments\": {\"bad\": 1}}");

    private AotTraining() {
    }

    public static void main(String[] args) throws Exception {
        Main daemon = new Main();
        int port;
        try {
            EmbeddedDefault.prepare();
            CommandLine.Run run = (CommandLine.Run) CommandLine.parse(EmbeddedDefault.argv());
            daemon.start(run.options());
            daemon.ready();
            port = daemon.httpPort();
            for (int i = 0; i < 3; i++) {
                qmpSession(false);
            }
            http(port);
        } catch (Exception e) {
            System.err.println("qmpd: training run failed: " + e);
            daemon.stop();
            System.exit(1);
            return;
        }
        // quit: the daemon stops and exits 0, and the JVM writes the cache on its way out
        // (bin/qmpd's timeout covers a quit that never comes).
        qmpSession(true);
    }

    /** One client: greeting, negotiation, {@link #SESSION}, and {@code quit} if asked. */
    private static void qmpSession(boolean quit) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(EmbeddedDefault.qmpSocket()));
            LineReader in = new LineReader(ch);
            expect(in.line(), "\"QMP\"");
            exchange(ch, in, "{\"execute\": \"qmp_capabilities\"}");
            for (String request : SESSION) {
                exchange(ch, in, request);
            }
            if (quit) {
                send(ch, "{\"execute\": \"quit\"}");
                in.line();
            }
        }
    }

    private static void exchange(SocketChannel ch, LineReader in, String request) throws IOException {
        send(ch, request);
        String reply = in.line();
        if (!reply.contains("\"return\"") && !reply.contains("\"error\"")) {
            throw new IOException("unexpected reply to " + request + ": " + reply);
        }
    }

    private static void send(SocketChannel ch, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void expect(String line, String part) throws IOException {
        if (!line.contains(part)) {
            throw new IOException("expected " + part + ", got " + line);
        }
    }

    /** The gateway's QMP route and a metrics scrape, as monitoring does right after start. */
    private static void http(int port) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            URI base = URI.create("http://127.0.0.1:" + port);
            for (String path : List.of("/metrics", "/readyz", "/api/v1/iothreads")) {
                check(client.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20)).build(),
                        HttpResponse.BodyHandlers.ofString()), path);
            }
            check(client.send(HttpRequest.newBuilder(base.resolve("/api/v1/qmp")).timeout(Duration.ofSeconds(20))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"execute\": \"query-block-exports\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()), "/api/v1/qmp");
        }
    }

    private static void check(HttpResponse<String> r, String path) throws IOException {
        if (r.statusCode() != 200) {
            throw new IOException(path + ": HTTP " + r.statusCode() + ": " + r.body());
        }
    }

    /** CRLF-terminated lines from a blocking channel. */
    private static final class LineReader {
        private final SocketChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        private final StringBuilder line = new StringBuilder();

        LineReader(SocketChannel ch) {
            this.ch = ch;
            buf.flip();
        }

        String line() throws IOException {
            while (true) {
                while (buf.hasRemaining()) {
                    char c = (char) (buf.get() & 0xff);
                    if (c == '\n') {
                        String s = line.toString();
                        line.setLength(0);
                        return s;
                    }
                    line.append(c);
                }
                buf.clear();
                int n = ch.read(buf);
                buf.flip();
                if (n < 0) {
                    throw new IOException("connection closed by qmpd");
                }
            }
        }
    }
}
