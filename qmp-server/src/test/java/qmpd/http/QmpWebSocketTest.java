package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.http.Http.assertError;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.metrics.QmpdMetrics;
import qmpd.qmp.QmpClient;
import qmpd.qmp.TestServer;
import qmpd.qmp.qom.IOThreadUsers;

/**
 * QMP over the gateway's WebSocket, with the JDK's WebSocket client against a real server: the
 * session behaves as a socket monitor's (greeting, negotiation, ids, errors, events triggered by
 * other clients), malformed frames get a socket client's errors or a close with a reason, and
 * none of it disturbs other sessions.
 */
@Timeout(60)
class QmpWebSocketTest {
    @TempDir
    Path dir;

    private TestServer qmp;
    private QmpdMetrics metrics;
    private HttpGateway gateway;
    private int port;

    @BeforeEach
    void setUp() throws Exception {
        qmp = new TestServer(dir, IOThreadUsers.NONE, HttpTestCommands.all());
        metrics = new QmpdMetrics();
        gateway = new HttpGateway(qmp.server, metrics, 4096);
        port = gateway.start("127.0.0.1", 0, Optional.empty());
    }

    @AfterEach
    void tearDown() {
        gateway.stop();
        metrics.close();
        qmp.close();
    }

    @Test
    void sessionIsTheSameAsOnASocketMonitor() throws Exception {
        try (WsClient ws = WsClient.open(port, null); QmpClient sock = QmpClient.connect(qmp.monitor("m"))) {
            JsonNode greeting = ws.next();
            assertEquals(sock.next(), greeting);   // the same greeting object
            assertEquals("oob", greeting.get("QMP").get("capabilities").get(0).asText());

            // Before negotiation: only qmp_capabilities, as on a socket.
            ws.send("{\"execute\": \"query-version\", \"id\": 1}");
            JsonNode early = ws.next();
            assertEquals("CommandNotFound", early.get("error").get("class").asText());
            assertEquals("Expecting capabilities negotiation with 'qmp_capabilities'", early.get("error").get("desc").asText());
            assertEquals(1, early.get("id").asInt());

            ws.send("{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}");
            JsonNode neg = ws.next();
            assertTrue(neg.get("return").isEmpty());
            assertEquals("neg", neg.get("id").asText());

            ws.send("{\"execute\": \"x-http-where\", \"id\": {\"any\": [\"json\"]}}");
            JsonNode where = ws.next();
            assertEquals("main-loop", where.get("return").get("thread").asText());   // the same dispatcher
            assertTrue(where.get("return").get("global-lock").asBoolean());
            assertEquals("json", where.get("id").get("any").get(0).asText());

            ws.send("{\"execute\": \"no-such-command\", \"id\": 2}");
            JsonNode err = ws.next();
            assertEquals("CommandNotFound", err.get("error").get("class").asText());
            assertEquals("The command no-such-command has not been found", err.get("error").get("desc").asText());
            assertEquals(2, err.get("id").asInt());

            // An event triggered by a socket client reaches the WebSocket, the same object.
            sock.execute("qmp_capabilities", null, null);
            sock.send("{\"execute\": \"x-http-emit\", \"arguments\": {\"n\": 5}}\n");
            JsonNode socketEvent = sock.next();
            QmpClient.ret(sock.next());
            assertEquals(socketEvent, ws.next());

            // And one triggered over HTTP.
            Http http = new Http(port, null);
            assertEquals(200, http.send("POST", "/api/v1/commands/x-http-emit", "{\"n\": 6}").statusCode());
            JsonNode httpEvent = ws.next();
            assertEquals("X_HTTP_TEST", httpEvent.get("event").asText());
            assertEquals(6, httpEvent.get("data").get("n").asInt());
        }
    }

    @Test
    void twoSessionsAreIndependentAndCountedAsClients() throws Exception {
        metrics.bindQmp(qmp.server.stats());
        try (WsClient a = WsClient.negotiated(port, null); WsClient b = WsClient.open(port, null)) {
            assertNotNull(b.next().get("QMP"));   // b is still negotiating while a is not
            b.send("{\"execute\": \"x-http-emit\", \"arguments\": {\"n\": 1}}");
            assertEquals("CommandNotFound", b.next().get("error").get("class").asText());
            a.send("{\"execute\": \"x-http-emit\", \"arguments\": {\"n\": 2}}");
            assertEquals(2, a.next().get("data").get("n").asInt());   // the event precedes the reply
            assertTrue(a.next().get("return").isEmpty());
            String scrape = metrics.scrape(null).body();
            assertTrue(scrape.contains("qmpd_qmp_clients 2.0"), scrape);
        }
    }

    @Test
    void malformedTextGetsTheSocketClientsErrorsAndTheSessionGoesOn() throws Exception {
        String[] bad = {"{\"execute\": }", "[1, 2]", "\"just a string\"", "{\"execute\": \"query-version\", \"bogus\": 1}",
            "{\"execute\": 42}", "}"};
        try (WsClient ws = WsClient.negotiated(port, null); QmpClient sock = QmpClient.negotiated(qmp.monitor("m"), false)) {
            for (String input : bad) {
                ws.send(input);
                sock.send(input + "\n");
                JsonNode fromWs = ws.next();
                JsonNode fromSocket = sock.next();
                assertEquals(fromSocket, fromWs, input);
                assertEquals("GenericError", fromWs.get("error").get("class").asText(), input);
            }
            ws.send("{\"execute\": \"query-version\", \"id\": 3}");
            JsonNode ok = ws.next();
            assertEquals(7, ok.get("return").get("qemu").get("major").asInt());
            assertEquals(3, ok.get("id").asInt());
        }
    }

    @Test
    void aMessageMayBeFragmentedAndFramesAreReadInOrder() throws Exception {
        try (WsClient ws = WsClient.negotiated(port, null)) {
            // One text message in three frames (a text frame and two continuations).
            ws.ws.sendText("{\"execute\": \"query-", false).join();
            ws.ws.sendText("version\", \"id\"", false).join();
            ws.ws.sendText(": 4}", true).join();
            assertEquals(4, ws.next().get("id").asInt());
            // Two commands in one frame are two requests, answered in order, as on a socket.
            ws.send("{\"execute\": \"query-version\", \"id\": 5} {\"execute\": \"query-status\", \"id\": 6}");
            assertEquals(5, ws.next().get("id").asInt());
            assertEquals(6, ws.next().get("id").asInt());
        }
    }

    @Test
    void binaryFramesCloseWithUnsupportedDataAndLeaveOthersAlone() throws Exception {
        try (WsClient other = WsClient.negotiated(port, null); WsClient ws = WsClient.negotiated(port, null)) {
            ws.sendBinary("{\"execute\": \"query-version\"}".getBytes());
            WsClient.Closed c = ws.awaitClose();
            assertEquals(1003, c.status(), c.toString());
            assertTrue(c.reason().contains("text frames"), c.reason());
            other.send("{\"execute\": \"query-version\"}");
            assertEquals(7, other.next().get("return").get("qemu").get("major").asInt());
        }
    }

    @Test
    void framesOverTheLimitCloseWithMessageTooBigAndLeaveOthersAlone() throws Exception {
        try (WsClient other = WsClient.negotiated(port, null); WsClient ws = WsClient.negotiated(port, null)) {
            ws.send("{\"execute\": \"query-version\", \"id\": \"" + "x".repeat(8192) + "\"}");   // limit: 4096
            WsClient.Closed c = ws.awaitClose();
            assertEquals(1009, c.status(), c.toString());
            assertEquals("QMP message larger than 4096 bytes", c.reason());
            other.send("{\"execute\": \"query-version\"}");
            assertEquals(7, other.next().get("return").get("qemu").get("major").asInt());
            assertEquals(200, new Http(port, null).send("GET", "/healthz", null).statusCode());
        }
    }

    @Test
    void upgradeNeedsTheTokenWhenThereIsOne() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "ws-token\n");
        HttpGateway secured = new HttpGateway(qmp.server, metrics);
        int securedPort = secured.start("127.0.0.1", 0, Optional.of(tokenFile));
        try {
            for (String token : new String[] {null, "wrong"}) {
                CompletionException e = assertThrows(CompletionException.class, () -> WsClient.open(securedPort, token));
                WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
                assertEquals(401, h.getResponse().statusCode());
            }
            try (WsClient ws = WsClient.negotiated(securedPort, "ws-token")) {
                ws.send("{\"execute\": \"query-version\"}");
                assertEquals(7, ws.next().get("return").get("qemu").get("major").asInt());
            }
        } finally {
            secured.stop();
        }
    }

    @Test
    void plainRequestsOnTheWebSocketPathAreRefused() throws Exception {
        Http http = new Http(port, null);
        assertError(http.send("GET", "/api/v1/qmp-ws", null), 400, "GenericError");
        HttpResponse<String> r = http.send("POST", "/api/v1/qmp-ws", "{}");
        assertError(r, 405, "GenericError");
        assertEquals("GET", r.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void quitAnswersThenShutsDown() throws Exception {
        try (WsClient ws = WsClient.negotiated(port, null)) {
            ws.send("{\"execute\": \"quit\", \"id\": 9}");
            JsonNode shutdown = ws.next();   // as on a socket, the event precedes the reply
            assertEquals("SHUTDOWN", shutdown.get("event").asText());
            assertEquals("host-qmp-quit", shutdown.get("data").get("reason").asText());
            JsonNode r = ws.next();
            assertTrue(r.get("return").isEmpty());
            assertEquals(9, r.get("id").asInt());
            qmp.shutdown.get(10, TimeUnit.SECONDS);
            assertEquals(1, qmp.shutdowns.get());
            assertFalse(ws.closed.isCompletedExceptionally());
        }
    }
}
