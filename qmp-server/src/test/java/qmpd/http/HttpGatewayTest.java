package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.metrics.QmpdMetrics;
import qmpd.metrics.Samples;
import qmpd.qmp.QmpClient;
import qmpd.qmp.TestServer;
import qmpd.qmp.qom.IOThreadUsers;

/** The HTTP gateway against a real QMP server and main loop, with java.net.http on 127.0.0.1. */
@Timeout(30)
class HttpGatewayTest {
    @TempDir
    Path dir;

    private TestServer qmp;
    private QmpdMetrics metrics;
    private HttpGateway gateway;
    private int port;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void setUp() throws Exception {
        qmp = new TestServer(dir, IOThreadUsers.NONE, HttpTestCommands.all());
        metrics = new QmpdMetrics();
        metrics.bindQmp(qmp.server.stats());
        metrics.bindIothread(QmpdMetrics.MAIN_LOOP, qmp.mainLoop.context());
        gateway = new HttpGateway(qmp.server, metrics);
        port = gateway.start("127.0.0.1", 0, Optional.empty());
    }

    @AfterEach
    void tearDown() {
        gateway.stop();
        metrics.close();
        qmp.close();
    }

    // ------------------------------------------------------------------ helpers

    private HttpResponse<String> send(HttpGateway g, String method, String path, String body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(gateway, method, path, body, null);
    }

    private static JsonNode json(HttpResponse<String> r) {
        return QmpClient.obj("{\"v\": " + r.body() + "}").get("v");
    }

    private static void assertError(HttpResponse<String> r, int status, String errorClass) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(errorClass, json(r).path("error").path("class").asText(), r.body());
        assertFalse(json(r).path("error").path("desc").asText().isEmpty(), r.body());
    }

    // ------------------------------------------------------------------ routes

    @Test
    void healthIsAlwaysOkAndReadinessFollowsTheOwnersFlag() throws Exception {
        assertEquals(200, send("GET", "/healthz", null).statusCode());
        assertEquals(503, send("GET", "/readyz", null).statusCode());
        gateway.setReady(true);
        assertEquals(200, send("GET", "/readyz", null).statusCode());
    }

    @Test
    void qmpRouteAnswersWithTheQmpResponseObjectFromTheMainLoop() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/qmp", "{\"execute\": \"x-http-where\", \"id\": 42}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        JsonNode rsp = json(r);
        assertEquals(42, rsp.get("id").asInt());
        assertEquals("main-loop", rsp.get("return").get("thread").asText());
        assertTrue(rsp.get("return").get("global-lock").asBoolean());

        r = send("POST", "/api/v1/qmp", "{\"execute\": \"qmp_capabilities\"}");
        assertError(r, 404, "CommandNotFound");   // the session is negotiated already
        r = send("POST", "/api/v1/qmp", "{\"exec-oob\": \"x-http-where\"}");
        assertError(r, 400, "GenericError");      // no oob over HTTP
    }

    @Test
    void commandRouteTakesArgumentsAndReturnsTheBareValue() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/commands/query-version", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(7, json(r).get("qemu").get("major").asInt());
        r = send("POST", "/api/v1/commands/qom-get", "{\"path\": \"/objects\", \"property\": \"type\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("container", json(r).asText());
    }

    @Test
    void eachErrorClassGetsItsStatus() throws Exception {
        assertError(send("POST", "/api/v1/commands/no-such-command", null), 404, "CommandNotFound");
        assertError(send("POST", "/api/v1/commands/qom-get", "{\"path\": \"/nope\", \"property\": \"type\"}"),
                404, "DeviceNotFound");
        assertError(send("POST", "/api/v1/commands/query-version", "{\"bogus\": 1}"), 400, "GenericError");
        assertError(send("POST", "/api/v1/commands/query-version", "[1]"), 400, "GenericError");
        assertError(send("POST", "/api/v1/commands/x-http-busy", null), 409, "DeviceNotActive");
        assertError(send("POST", "/api/v1/commands/x-http-crash", null), 500, "GenericError");
        assertError(send("GET", "/api/v1/qmp", null), 405, "GenericError");
        assertError(send("GET", "/nowhere", null), 404, "GenericError");
    }

    @Test
    void malformedJsonIs400WithTheParsersMessage() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/qmp", "{\"execute\": ");
        assertError(r, 400, "GenericError");
        assertTrue(json(r).get("error").get("desc").asText().startsWith("Invalid JSON: Unexpected end-of-input"),
                r.body());
        assertError(send("POST", "/api/v1/qmp", "{\"execute\": \"a\", \"execute\": \"b\"}"), 400, "GenericError");
        assertError(send("POST", "/api/v1/qmp", "{} {}"), 400, "GenericError");
        assertError(send("POST", "/api/v1/qmp", ""), 400, "GenericError");
    }

    @Test
    void bodiesOverTheLimitAre413AndTheServerStaysUsable() throws Exception {
        String big = "{\"execute\": \"query-version\", \"arguments\": {\"x\": \""
                + "a".repeat(HttpGateway.DEFAULT_BODY_LIMIT) + "\"}}";
        assertError(send("POST", "/api/v1/qmp", big), 413, "GenericError");
        String justFits = "{\"execute\": \"query-version\", \"id\": \"" + "a".repeat(HttpGateway.DEFAULT_BODY_LIMIT - 100)
                + "\"}";
        assertEquals(200, send("POST", "/api/v1/qmp", justFits).statusCode());
    }

    @Test
    void chunkedBodiesAreCutOffAtTheLimitToo() throws Exception {
        byte[] big = new byte[2 * HttpGateway.DEFAULT_BODY_LIMIT];
        java.util.Arrays.fill(big, (byte) ' ');
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/qmp"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big)))
                .build();   // no Content-Length: chunked, so the server only learns the size by reading
        HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
        assertError(r, 413, "GenericError");
        assertEquals(200, send("GET", "/healthz", null).statusCode());
    }

    @Test
    void tokenIsRequiredEverywhereButHealthChecks() throws Exception {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, "s3cret-token\n");
        HttpGateway secured = new HttpGateway(qmp.server, metrics);
        secured.start("127.0.0.1", 0, Optional.of(tokenFile));
        try {
            assertEquals(200, send(secured, "GET", "/healthz", null, null).statusCode());
            assertEquals(503, send(secured, "GET", "/readyz", null, null).statusCode());
            for (String path : new String[] {"/metrics", "/api/v1/events", "/api/v1/openapi.json", "/api/v1/iothreads",
                "/api/v1/iothreads/x", "/api/v1/nodes", "/api/v1/nodes/x", "/api/v1/nodes/x/stats", "/api/v1/exports",
                "/api/v1/exports/x", "/api/v1/qmp-ws"}) {
                HttpResponse<String> r = send(secured, "GET", path, null, null);
                assertError(r, 401, "GenericError");
                assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElseThrow());
                assertError(send(secured, "GET", path, null, "wrong"), 401, "GenericError");
            }
            assertError(send(secured, "POST", "/api/v1/qmp", "{\"execute\": \"query-version\"}", "s3cret-toke"),
                    401, "GenericError");
            assertEquals(200, send(secured, "POST", "/api/v1/qmp", "{\"execute\": \"query-version\"}", "s3cret-token")
                    .statusCode());
            assertEquals(200, send(secured, "GET", "/metrics", null, "s3cret-token").statusCode());
            for (String[] mr : new String[][] {{"POST", "/api/v1/nodes"}, {"DELETE", "/api/v1/nodes/x"},
                {"POST", "/api/v1/exports"}, {"DELETE", "/api/v1/exports/x"}, {"PATCH", "/api/v1/iothreads/x"}}) {
                assertError(send(secured, mr[0], mr[1], "{}", null), 401, "GenericError");
            }
            // With the token, the request reaches the route (here: the iothread does not exist).
            assertError(send(secured, "PATCH", "/api/v1/iothreads/x", "{\"poll-grow\": 2}", "s3cret-token"),
                    404, "DeviceNotFound");
        } finally {
            secured.stop();
        }
    }

    @Test
    void nonLoopbackWithoutTokenAndEmptyTokenFilesAreRefused() throws Exception {
        HttpGateway g = new HttpGateway(qmp.server, metrics);
        assertThrows(IllegalArgumentException.class, () -> g.start("0.0.0.0", 0, Optional.empty()));
        Path empty = Files.writeString(dir.resolve("empty"), " \n");
        assertThrows(IOException.class, () -> g.start("127.0.0.1", 0, Optional.of(empty)));
        assertEquals(-1, g.port());
    }

    @Test
    void metricsPassPromtoolAndCountHttpAndSocketCommands() throws Exception {
        send("POST", "/api/v1/commands/query-version", null);
        send("POST", "/api/v1/commands/query-version", null);
        send("POST", "/api/v1/commands/no-such-command", null);
        try (QmpClient c = QmpClient.negotiated(qmp.monitor("m"), false)) {
            QmpClient.ret(c.execute("query-version", null, null));
            HttpResponse<String> r = send("GET", "/metrics", null);
            assertEquals(200, r.statusCode());
            assertEquals(QmpdMetrics.TEXT_0_0_4, r.headers().firstValue("Content-Type").orElseThrow());
            String t = r.body();
            assertEquals(3, Samples.value(t, "qmpd_qmp_commands_total", "command=query-version", "outcome=ok"));
            assertEquals(1, Samples.value(t, "qmpd_qmp_commands_total", "command=unknown", "outcome=CommandNotFound"));
            assertEquals(1, Samples.value(t, "qmpd_qmp_clients"));
            assertEquals(3, Samples.value(t, "qmpd_qmp_command_duration_seconds_count", "command=query-version"));
            assertTrue(Samples.value(t, "qmpd_aio_iterations_total", "iothread=main-loop") > 0);
            assertEquals("exit=0", Samples.promtool(t));
        }
        HttpResponse<String> om = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(QmpdMetrics.OPENMETRICS_1_0, om.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(om.body().endsWith("# EOF\n"));
    }

    @Test
    void eventsStreamCarriesTheEventAQmpSocketClientTriggered() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/events")).build();
        HttpResponse<Stream<String>> r = client.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElseThrow());
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> r.body().forEach(lines::add));
        try {
            assertEquals(": subscribed", lines.poll(10, TimeUnit.SECONDS));   // listening from here on
            try (QmpClient c = QmpClient.negotiated(qmp.monitor("m"), false)) {
                c.send("{\"execute\": \"x-http-emit\", \"arguments\": {\"n\": 7}}\n");
                JsonNode socketEvent = c.next();   // an event precedes the reply of the command that emitted it
                QmpClient.ret(c.next());
                String data = nextData(lines);
                JsonNode sseEvent = QmpClient.obj(data);
                assertEquals("X_HTTP_TEST", sseEvent.get("event").asText());
                assertEquals(7, sseEvent.get("data").get("n").asInt());
                assertEquals(socketEvent, sseEvent);   // the same object, timestamp included
            }
            // Also through HTTP itself.
            send("POST", "/api/v1/commands/x-http-emit", "{\"n\": 8}");
            assertEquals(8, QmpClient.obj(nextData(lines)).get("data").get("n").asInt());
        } finally {
            gateway.stop();   // ends the stream: the reader sees the end
            reader.join(10_000);
            assertFalse(reader.isAlive());
        }
    }

    private static String nextData(BlockingQueue<String> lines) throws InterruptedException {
        while (true) {
            String l = lines.poll(10, TimeUnit.SECONDS);
            assertNotNull(l, "no event within 10 s");
            if (l.startsWith("data: ")) {
                return l.substring(6);
            }
        }
    }

    @Test
    void openApiDescribesEveryCommandAndEveryReferenceResolves() throws Exception {
        HttpResponse<String> r = send("GET", "/api/v1/openapi.json", null);
        assertEquals(200, r.statusCode());
        JsonNode doc = json(r);
        assertEquals("3.0.3", doc.get("openapi").asText());
        for (String name : qmp.server.registry().names()) {
            assertTrue(doc.get("paths").has("/api/v1/commands/" + name), name);
        }
        JsonNode schemas = doc.get("components").get("schemas");
        doc.findValues("$ref").forEach(ref -> assertTrue(
                schemas.has(ref.asText().substring("#/components/schemas/".length())), ref.asText()));
    }

    @Test
    void iothreadsAreAResource() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/iothreads", "{\"id\": \"io1\", \"poll-max-ns\": 1000}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("/api/v1/iothreads/io1", r.headers().firstValue("Location").orElseThrow());
        assertEquals(1000, json(r).get("poll-max-ns").asInt());
        assertError(send("POST", "/api/v1/iothreads", "{\"id\": \"io1\"}"), 409, "GenericError");
        assertError(send("POST", "/api/v1/iothreads", "{\"id\": \"io2\", \"poll-max-ns\": -1}"), 400, "GenericError");
        r = send("GET", "/api/v1/iothreads", null);
        assertEquals(200, r.statusCode());
        assertEquals(1, json(r).size());
        assertEquals("io1", json(r).get(0).get("id").asText());
        assertEquals(200, send("GET", "/api/v1/iothreads/io1", null).statusCode());
        assertEquals(204, send("DELETE", "/api/v1/iothreads/io1", null).statusCode());
        assertError(send("DELETE", "/api/v1/iothreads/io1", null), 404, "DeviceNotFound");
        assertError(send("GET", "/api/v1/iothreads/io1", null), 404, "DeviceNotFound");
        r = send("PUT", "/api/v1/iothreads/io1", "{}");
        assertError(r, 405, "GenericError");
        assertEquals("GET, PATCH, DELETE", r.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void patchTunesAnIothreadsPollingAndIsAllOrNothing() throws Exception {
        assertEquals(201, send("POST", "/api/v1/iothreads", "{\"id\": \"io3\"}").statusCode());
        HttpResponse<String> r = send("PATCH", "/api/v1/iothreads/io3",
                "{\"poll-max-ns\": 12345, \"poll-grow\": 4, \"poll-shrink\": 3, \"aio-max-batch\": 16}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(12345, json(r).get("poll-max-ns").asLong());
        assertEquals(4, json(r).get("poll-grow").asLong());
        assertEquals(3, json(r).get("poll-shrink").asLong());
        assertEquals(16, json(r).get("aio-max-batch").asLong());
        // The change is real: qom-get over QMP sees it.
        r = send("POST", "/api/v1/commands/qom-get", "{\"path\": \"/objects/io3\", \"property\": \"poll-max-ns\"}");
        assertEquals(12345, json(r).asLong());

        // Bad values, unknown or read-only members, bad bodies: 400 and nothing changed.
        for (String bad : new String[] {"{\"poll-grow\": 5, \"poll-max-ns\": -1}", "{\"poll-grow\": 5, \"poll-shrink\": \"x\"}",
            "{\"poll-grow\": 5, \"poll-max-ns\": 1.5}", "{\"poll-grow\": 5, \"id\": \"io4\"}",
            "{\"poll-grow\": 5, \"thread-pool-max\": 4}", "{\"poll-grow\": 99999999999999999999}", "{}", "[]", "7", ""}) {
            assertError(send("PATCH", "/api/v1/iothreads/io3", bad), 400, "GenericError");
        }
        assertError(send("PATCH", "/api/v1/iothreads/io3", "{\"poll-grow\": "), 400, "GenericError");
        assertEquals(4, json(send("GET", "/api/v1/iothreads/io3", null)).get("poll-grow").asLong());
        assertError(send("PATCH", "/api/v1/iothreads/nope", "{\"poll-grow\": 1}"), 404, "DeviceNotFound");
        assertEquals(204, send("DELETE", "/api/v1/iothreads/io3", null).statusCode());
    }

    @Test
    void quitRepliesThenRunsTheShutdownHook() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/qmp", "{\"execute\": \"quit\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(json(r).get("return").isEmpty());
        qmp.shutdown.get(10, TimeUnit.SECONDS);
        assertEquals(1, qmp.shutdowns.get());
    }
}
