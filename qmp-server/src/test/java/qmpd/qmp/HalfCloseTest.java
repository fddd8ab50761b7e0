package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends its commands and shuts down its writing side (what {@code printf ... |
 * socat - TCP:...} does) gets every reply, then the server closes, as QEMU does.
 */
@Timeout(30)
class HalfCloseTest {
    @TempDir
    Path dir;

    @Test
    void repliesToEverythingSentBeforeEofThenCloses() throws Exception {
        try (TestServer ts = new TestServer(dir)) {
            // TCP: Netty's NIO transport honours half-closure on TCP sockets only.
            int port = ts.server.listenTcp("127.0.0.1", 0, qmpd.qmp.MonitorOptions.defaults())
                    .toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS).actualPort();
            try (SocketChannel ch = SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", port))) {
                ch.write(ByteBuffer.wrap(("{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-version\", \"id\": 1}\n"
                        + "{\"execute\": \"query-status\", \"id\": 2}\n{\"execute\": \"query-").getBytes(StandardCharsets.US_ASCII)));
                ch.shutdownOutput();   // the last object is cut off: QEMU drops it
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                ByteBuffer buf = ByteBuffer.allocate(4096);
                while (ch.read(buf.clear()) >= 0) {   // ends when the server closes
                    all.write(buf.array(), 0, buf.position());
                }
                String[] lines = all.toString(StandardCharsets.US_ASCII).split("\r\n");
                assertEquals(4, lines.length, String.join("\n", lines));
                assertTrue(lines[0].startsWith("{\"QMP\""), lines[0]);
                assertEquals("{\"return\": {}}", lines[1]);
                assertTrue(lines[2].contains("\"id\": 1") && lines[2].contains("\"qemu\""), lines[2]);
                assertTrue(lines[3].contains("\"id\": 2") && lines[3].contains("\"running\""), lines[3]);
            }
            // The monitor takes the next client.
            try (QmpClient c = QmpClient.connectTcp(port)) {
                c.nextLine();   // greeting
                QmpClient.ret(c.execute("qmp_capabilities", null, null));
                QmpClient.ret(c.execute("query-status", null, null));
            }
        }
    }
}
