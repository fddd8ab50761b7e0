package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw QMP test client on a UNIX socket: writes bytes exactly as given and splits what the server
 * sends into CRLF-terminated lines, collected by a reader thread so every wait is bounded.
 */
public final class QmpClient implements AutoCloseable {
    /** Lenient enough for the 1024-deep echoes of the transcripts. */
    public static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(5000).maxStringLength(Integer.MAX_VALUE).maxNumberLength(1000).build());
    }

    private static final String EOF = "\u0000EOF";
    private final SocketChannel channel;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;
    private long timeoutMs = 20_000;

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        this.reader = Thread.ofPlatform().daemon(true).name("qmp-test-client").start(this::readLoop);
    }

    /** Connects; the greeting (if any) is left for the caller to read. */
    public static QmpClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return new QmpClient(ch);
    }

    /** Connects over TCP to 127.0.0.1. */
    public static QmpClient connectTcp(int port) throws IOException {
        SocketChannel ch = SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", port));
        return new QmpClient(ch);
    }

    /** Connects, checks the greeting and negotiates (with {@code oob} if asked). */
    public static QmpClient negotiated(Path socket, boolean oob) throws IOException {
        QmpClient c = connect(socket);
        JsonNode greeting = c.next();
        assertNotNull(greeting.get("QMP"), "greeting: " + greeting);
        JsonNode r = c.execute("qmp_capabilities", oob ? "{\"enable\": [\"oob\"]}" : null, null);
        assertNotNull(r.get("return"), "qmp_capabilities: " + r);
        return c;
    }

    private void readLoop() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(65536);
        try {
            while (channel.read(buf.clear()) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    line.write(b);
                    int n = line.size();
                    if (b == '\n' && n >= 2 && line.toByteArray()[n - 2] == '\r') {
                        lines.add(line.toString(StandardCharsets.ISO_8859_1).substring(0, n - 2));
                        line.reset();
                    }
                }
            }
        } catch (IOException e) {
            // closed by us or reset by the server: both end the stream
        }
        lines.add(EOF);
    }

    /** The next raw line (CRLF stripped); fails after the timeout or at EOF. */
    public String nextLine() {
        String l = poll();
        if (l == null) {
            fail("no message from the server within " + timeoutMs + " ms");
        }
        if (l.equals(EOF)) {
            fail("server closed the connection");
        }
        return l;
    }

    private String poll() {
        try {
            return lines.poll(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The next message, parsed. */
    public JsonNode next() {
        try {
            return JSON.readTree(nextLine());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** True if a line is already waiting (no wait). */
    public boolean hasPending() {
        String l = lines.peek();
        return l != null && !l.equals(EOF);
    }

    /** Waits for the server to close the connection, skipping (and returning the count of) events. */
    public int awaitEof() {
        int events = 0;
        while (true) {
            String l = poll();
            if (l == null) {
                fail("connection still open after " + timeoutMs + " ms");
            }
            if (l.equals(EOF)) {
                return events;
            }
            if (!l.contains("\"event\"")) {
                fail("unexpected message before EOF: " + l);
            }
            events++;
        }
    }

    public void send(String text) {
        sendBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes as in the transcripts' {@code raw}: one char per byte. */
    public void sendLatin1(String raw) {
        sendBytes(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void sendBytes(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Sends a request and returns the next non-event message. */
    public JsonNode execute(String command, String argsJson, String idJson) {
        StringBuilder s = new StringBuilder("{\"execute\": \"").append(command).append('"');
        if (argsJson != null) {
            s.append(", \"arguments\": ").append(argsJson);
        }
        if (idJson != null) {
            s.append(", \"id\": ").append(idJson);
        }
        send(s.append("}\n").toString());
        return reply();
    }

    /** The next message that is not an event. */
    public JsonNode reply() {
        while (true) {
            JsonNode m = next();
            if (!m.has("event")) {
                return m;
            }
        }
    }

    /** Asserts {@code reply} is an error of {@code cls} with {@code desc}. */
    public static void assertError(JsonNode reply, String cls, String desc) {
        JsonNode err = reply.get("error");
        assertNotNull(err, "expected an error, got " + reply);
        assertEquals(cls, err.get("class").asText(), reply.toString());
        if (desc != null) {
            assertEquals(desc, err.get("desc").asText(), reply.toString());
        }
    }

    /** The {@code return} member, failing on errors. */
    public static JsonNode ret(JsonNode reply) {
        JsonNode r = reply.get("return");
        assertNotNull(r, "expected a return, got " + reply);
        return r;
    }

    public static ObjectNode obj(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
