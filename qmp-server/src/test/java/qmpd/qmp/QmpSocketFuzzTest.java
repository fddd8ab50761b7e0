package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import qmpd.config.fuzz.FuzzRuns;

/**
 * Fuzzes a running QMP server over real UNIX sockets. For every input, one client connects to
 * monitor A, sends the input's bytes and then either hangs up at once or resynchronises (0xFF)
 * and asks for {@code query-version}, which must be answered; meanwhile a well-behaved client of
 * monitor B, connected for the whole run, must be answered after every input. At the end both
 * monitors still take new sessions.
 */
class QmpSocketFuzzTest {
    private static final List<byte[]> DICTIONARY = FuzzRuns.words("{", "}", "[", "]", ":", ",", "\"",
            "{\"execute\": \"qmp_capabilities\"}", "{\"execute\": \"query-version\"}", "\"id\"", "\"arguments\"",
            "{\"exec-oob\": \"query-status\"}", "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
            "\"object-add\"", "\"qom-type\": \"iothread\"", "\\u0000", "\\ud800", "1e400", "\u00ff", "\r\n", "\n");
    private static final Server S = new Server();

    private static final class Server {
        final Path dir;
        final TestServer ts;
        final Path a;
        final Path b;
        final QmpClient wellBehaved;

        Server() {
            try {
                dir = Files.createTempDirectory("qmp-socket-fuzz");
                ts = new TestServer(dir);
                a = ts.monitor("A");
                b = ts.monitor("B");
                wellBehaved = QmpClient.negotiated(b, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @AfterAll
    static void stop() throws IOException {
        S.wellBehaved.close();
        S.ts.close();
        try (var files = Files.walk(S.dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The input's bytes, minus {@code quit}, which would legitimately stop the server. */
    private static byte[] garbage(byte[] data) {
        String s = new String(data, StandardCharsets.ISO_8859_1).replace("quit", "quiz");
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @FuzzTest(maxDuration = "60s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void qmpSocket(byte[] data) throws IOException {
        boolean resync = data.length == 0 || (data[0] & 1) == 0;
        try (QmpClient c = QmpClient.connect(S.a)) {
            assertNotNull(QmpClient.JSON.readTree(c.nextLine()).get("QMP"), "greeting");
            c.sendBytes(garbage(data));
            if (resync) {
                c.sendBytes("\u00ff{\"execute\": \"query-version\", \"id\": \"probe\"}\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                String line;
                do {
                    line = c.nextLine();   // fails on EOF or after 20 s without a message
                } while (!line.contains("\"id\": \"probe\""));
                assertTrue(line.startsWith("{\"return\": {\"qemu\"") || line.contains("\"class\": \"CommandNotFound\""),
                        line);
            }
        } catch (UncheckedIOException e) {
            throw new AssertionError("the server broke the garbage client's connection", e);
        }
        JsonNode r = S.wellBehaved.execute("query-version", null, null);
        assertNotNull(r.get("return"), "the well-behaved client is answered: " + r);
    }

    @Test
    @Timeout(120)
    void qmpSocketRandomRun() throws IOException {
        FuzzRuns.run(getClass(), "qmpSocket", 300, 4096, DICTIONARY, this::qmpSocket);
        try (QmpClient fresh = QmpClient.negotiated(S.a, true)) {
            assertNotNull(fresh.execute("query-status", null, null).get("return"), "monitor A still serves");
        }
        assertEquals("probe", S.wellBehaved.execute("query-version", null, "\"probe\"").path("id").asText());
    }
}
