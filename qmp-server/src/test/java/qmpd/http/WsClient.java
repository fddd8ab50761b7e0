package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import qmpd.qmp.QmpClient;

/**
 * A QMP client over a WebSocket, with the JDK's own WebSocket client (an implementation
 * independent of the server's): whole text messages are queued, the close status is kept.
 */
final class WsClient implements AutoCloseable {
    /** The close frame the server sent: status and reason. */
    record Closed(int status, String reason) {
    }

    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    final WebSocket ws;

    private WsClient(HttpClient client, URI uri, String token) {
        WebSocket.Builder b = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        this.ws = b.buildAsync(uri, new Listener()).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** Opens the WebSocket (the upgrade's failure is thrown as a CompletionException). */
    static WsClient open(int port, String token) {
        return new WsClient(HttpClient.newHttpClient(), URI.create("ws://127.0.0.1:" + port + "/api/v1/qmp-ws"), token);
    }

    /** Opens, checks the greeting and negotiates. */
    static WsClient negotiated(int port, String token) {
        WsClient c = open(port, token);
        assertNotNull(c.next().get("QMP"));
        c.send("{\"execute\": \"qmp_capabilities\"}");
        assertNotNull(c.next().get("return"));
        return c;
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int status, String reason) {
            closed.complete(new Closed(status, reason));
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            closed.complete(new Closed(-1, error.toString()));
        }
    }

    /** Sends {@code text} as one text frame. */
    void send(String text) {
        ws.sendText(text, true).orTimeout(20, TimeUnit.SECONDS).join();
    }

    void sendBinary(byte[] data) {
        ws.sendBinary(ByteBuffer.wrap(data), true).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** The next raw text message; fails after 20 s. */
    String nextText() {
        try {
            String m = messages.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "no message within 20 s; closed: " + closed.getNow(null));
            return m;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    JsonNode next() {
        return QmpClient.obj("{\"v\": " + nextText() + "}").get("v");
    }

    /** Waits for the server's close frame. */
    Closed awaitClose() {
        return closed.orTimeout(20, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        ws.abort();
    }
}
