package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import qmpd.config.fuzz.FuzzInput;
import qmpd.config.fuzz.FuzzRuns;
import qmpd.metrics.QmpdMetrics;
import qmpd.qmp.TestServer;

/**
 * Fuzzes the REST gateway, with a bearer token, in front of a real QMP server holding the standard
 * commands (none of which fails internally, so 500 is never a right answer here). Two kinds of
 * input: a request built with {@code java.net.http} (random method, a path from the routes with
 * mutated segments and escapes, random headers, a JSON-ish body, the token usually right), whose
 * status must be one that docs/http.md documents; or raw bytes on a TCP connection (malformed
 * request lines, headers, chunking), after which the server must answer with a documented status
 * or nothing, and close once the client hangs up. After every input {@code /healthz} answers 200.
 */
class HttpGatewayFuzzTest {
    private static final String TOKEN = "fuzz-token";
    private static final Set<Integer> DOCUMENTED = Set.of(200, 201, 204, 400, 401, 404, 405, 409, 413, 503);
    /** What the HTTP codec answers before any route (docs/http.md): 100 to Expect, and malformed requests. */
    private static final Set<Integer> CODEC = Set.of(100, 400, 414, 431, 501);
    private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS",
            "HEAD", "TRACE", "FOO");
    private static final List<String> PATHS = List.of("/healthz", "/readyz", "/metrics", "/api/v1/qmp",
            "/api/v1/commands/", "/api/v1/commands/query-version", "/api/v1/commands/qom-list",
            "/api/v1/commands/object-add", "/api/v1/openapi.json", "/api/v1/iothreads", "/api/v1/iothreads/io0",
            "/api/v1/events", "/", "/api/v1/", "/api/v1/iothreads/%2e%2e", "/api/v1/commands/%00",
            "/api/v1/commands/..%2f..%2fhealthz");
    private static final List<String> BODIES = List.of("", "{}", "[]", "null", "{\"execute\": \"query-version\"}",
            "{\"id\": \"io0\"}", "{\"id\": \"io0\", \"poll-max-ns\": -1}", "{\"path\": \"/objects\"}",
            "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/\"}, \"id\": 1}", "{\"a\": 1, \"a\": 2}",
            "{} {}", "\"\\ud800\"", "{\"qom-type\": \"iothread\", \"id\": \"io1\"}", "1e400");
    private static final java.util.regex.Pattern STATUS_LINE =
            java.util.regex.Pattern.compile("HTTP/\\S+ (\\d{3})( .*)?");
    private static final List<byte[]> DICTIONARY = FuzzRuns.words("GET ", "POST ", " HTTP/1.1\r\n", "\r\n",
            "\r\n\r\n", "Host: x\r\n", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n",
            "Authorization: Bearer fuzz-token\r\n", "Content-Type: application/json\r\n", "/api/v1/qmp",
            "/api/v1/iothreads", "/api/v1/commands/query-version", "{\"execute\": \"query-version\"}",
            "Expect: 100-continue\r\n", "%", "%2f", "?", "#", "..");
    private static final Bed B = new Bed();
    /** Statuses seen, for the figure in docs/reliability.md (how far inputs got). */
    private static final java.util.Map<Integer, java.util.concurrent.atomic.LongAdder> SEEN =
            new java.util.concurrent.ConcurrentSkipListMap<>();

    private static final class Bed {
        final Path dir;
        final TestServer qmp;
        final QmpdMetrics metrics;
        final HttpGateway gateway;
        final int port;
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        Bed() {
            try {
                dir = Files.createTempDirectory("http-fuzz");
                qmp = new TestServer(dir);
                metrics = new QmpdMetrics();
                metrics.bindQmp(qmp.server.stats());
                metrics.bindIothread(QmpdMetrics.MAIN_LOOP, qmp.mainLoop.context());
                gateway = new HttpGateway(qmp.server, metrics);
                Path token = dir.resolve("token");
                Files.writeString(token, TOKEN + "\n");
                port = gateway.start("127.0.0.1", 0, Optional.of(token));
                gateway.setReady(true);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @AfterAll
    static void stop() throws IOException {
        System.out.println("fuzz HttpGatewayFuzzTest: statuses seen " + SEEN);
        B.gateway.stop();
        B.metrics.close();
        B.qmp.close();
        try (var files = Files.walk(B.dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** {@code quit} would legitimately stop the daemon: it is kept out of every input. */
    private static String noQuit(String s) {
        return s.replace("quit", "quiz");
    }

    @FuzzTest(maxDuration = "60s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void httpRequest(byte[] data) throws Exception {
        FuzzInput in = new FuzzInput(data);
        if (in.nextInt(4) == 0) {
            raw(in.rest());
        } else {
            built(in);
        }
        HttpResponse<String> health = B.client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + B.port + "/healthz")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), "the gateway still serves");
    }

    private static void built(FuzzInput in) throws Exception {
        String path = in.pick(PATHS);
        switch (in.nextInt(4)) {
            case 0 -> path += in.nextString(12);
            case 1 -> path = path + "/" + in.pick(List.of("io0", "io1", "x", "%20", "%ff", "a?b=c", "..", ""));
            default -> { }
        }
        URI uri;
        try {
            uri = URI.create("http://127.0.0.1:" + B.port + noQuit(path));
        } catch (IllegalArgumentException e) {
            return;   // not a URI the client can send
        }
        String body = switch (in.nextInt(3)) {
            case 0 -> in.pick(BODIES);
            case 1 -> in.nextString(200);
            default -> in.pick(BODIES) + in.nextString(8);
        };
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
        String method = in.pick(METHODS);
        try {
            b.method(method, in.nextInt(4) == 0 ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(noQuit(body)));
            if (in.nextInt(8) != 0) {
                b.header("Authorization", in.nextInt(16) == 0 ? "Bearer " + in.nextString(12) : "Bearer " + TOKEN);
            }
            for (int n = in.nextInt(3); n > 0; n--) {
                b.header(in.pick(List.of("Content-Type", "Accept", "X-" + in.nextString(6), "Accept-Encoding")),
                        in.pick(List.of("application/json", "text/plain", "application/openmetrics-text",
                                "*/*", in.nextString(20))));
            }
        } catch (IllegalArgumentException e) {
            return;   // a header or method the client refuses to send
        }
        HttpResponse<InputStream> r;
        try {
            r = B.client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (java.net.http.HttpTimeoutException e) {
            throw new AssertionError("no answer within 20 s to " + method + " " + uri, e);
        }
        try (InputStream body2 = r.body()) {
            if (!r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
                body2.readNBytes(4 << 20);
            }
        }
        SEEN.computeIfAbsent(r.statusCode(), k -> new java.util.concurrent.atomic.LongAdder()).increment();
        assertTrue(DOCUMENTED.contains(r.statusCode()), () -> method + " " + uri + " -> " + r.statusCode());
    }

    /** Raw bytes on a TCP connection; then the client hangs up and the server must close. */
    private static void raw(byte[] bytes) throws Exception {
        byte[] request = noQuit(new String(bytes, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", B.port))) {
            FutureTask<byte[]> drain = new FutureTask<>(() -> {
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                try {
                    for (int n; (n = ch.read(buf.clear())) >= 0; ) {
                        got.write(buf.array(), 0, n);
                    }
                } catch (IOException e) {
                    // reset: closed all the same
                }
                return got.toByteArray();
            });
            Thread.ofVirtual().name("http-fuzz-drain").start(drain);
            try {
                ch.write(ByteBuffer.wrap(request));
                ch.shutdownOutput();
            } catch (IOException e) {
                // the server closed first (a malformed request line): allowed
            }
            byte[] answer;
            try {
                answer = drain.get(20, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the server kept the connection 20 s after the client's EOF");
            } catch (ExecutionException e) {
                throw new AssertionError(e.getCause());
            }
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            for (String line : text.split("\r\n")) {
                // A status line; the codec answers an unknown version in that version's own
                // spelling (e.g. "HTTP/1.-1863462913 501 Not Implemented"), so read the code
                // after the first space.
                java.util.regex.Matcher m = STATUS_LINE.matcher(line);
                if (m.matches()) {
                    int status = Integer.parseInt(m.group(1));
                    SEEN.computeIfAbsent(status, k -> new java.util.concurrent.atomic.LongAdder()).increment();
                    assertTrue(DOCUMENTED.contains(status) || CODEC.contains(status),
                            () -> "status " + status + " for raw request " + text);
                }
            }
        }
    }

    @Test
    @Timeout(120)
    void httpRequestRandomRun() {
        FuzzRuns.run(getClass(), "httpRequest", 800, 1024, DICTIONARY, this::httpRequest);
    }
}
