package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.http.Http.assertError;
import static qmpd.http.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * The node and export resources against {@code qmpd.Main} run as a process (the full command set,
 * a real NBD server), with java.net.http, curl and qemu-io as clients. Each test uses names of its
 * own, so they share one daemon.
 */
@Timeout(120)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResourceRoutesTest {
    @TempDir
    static Path dir;

    private QmpdProcess qmpd;
    private Http http;
    private Path qmpSocket;
    private Path nbdSocket;

    @BeforeAll
    void start() throws Exception {
        qmpSocket = dir.resolve("qmp.sock");
        nbdSocket = dir.resolve("nbd.sock");
        qmpd = QmpdProcess.start(dir, List.of(
                "--chardev", "socket,path=" + qmpSocket + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--nbd-server", "addr.type=unix,addr.path=" + nbdSocket,
                "--http", "host=127.0.0.1,port=0"));
        http = new Http(qmpd.awaitHttp(), null);
    }

    @AfterAll
    void stop() throws Exception {
        qmpd.close();
    }

    private static String nullCo(String name) {
        return "{\"driver\": \"null-co\", \"node-name\": \"" + name + "\", \"size\": 1048576}";
    }

    @Test
    void nodesCanBeCreatedReadAndDeleted() throws Exception {
        HttpResponse<String> r = http.send("POST", "/api/v1/nodes", nullCo("rn1"));
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("/api/v1/nodes/rn1", r.headers().firstValue("Location").orElseThrow());
        assertEquals("rn1", json(r).get("node-name").asText());
        assertEquals("null-co", json(r).get("drv").asText());
        assertEquals(1048576, json(r).get("image").get("virtual-size").asLong());

        r = http.send("GET", "/api/v1/nodes", null);
        assertEquals(200, r.statusCode());
        List<String> names = new ArrayList<>();
        json(r).forEach(n -> names.add(n.get("node-name").asText()));
        assertTrue(names.contains("rn1"), names.toString());
        r = http.send("GET", "/api/v1/nodes/rn1", null);
        assertEquals(200, r.statusCode());
        assertEquals("rn1", json(r).get("node-name").asText());

        r = http.send("GET", "/api/v1/nodes/rn1/stats", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("rn1", json(r).get("node-name").asText());
        assertEquals(0, json(r).get("stats").get("wr_operations").asLong());

        assertEquals(204, http.send("DELETE", "/api/v1/nodes/rn1", null).statusCode());
        assertError(http.send("GET", "/api/v1/nodes/rn1", null), 404, "DeviceNotFound");
        assertError(http.send("GET", "/api/v1/nodes/rn1/stats", null), 404, "DeviceNotFound");
        assertError(http.send("DELETE", "/api/v1/nodes/rn1", null), 404, "DeviceNotFound");
    }

    @Test
    void nodeErrorsHaveTheirStatus() throws Exception {
        assertEquals(201, http.send("POST", "/api/v1/nodes", nullCo("rn2")).statusCode());
        // A taken name: blockdev-add's own GenericError, as 409.
        HttpResponse<String> r = http.send("POST", "/api/v1/nodes", nullCo("rn2"));
        assertError(r, 409, "GenericError");
        assertTrue(json(r).get("error").get("desc").asText().contains("Duplicate nodes with node-name='rn2'"), r.body());
        // Bad arguments are the client's fault: 400 with the command's error.
        assertError(http.send("POST", "/api/v1/nodes", "{\"driver\": \"no-such\", \"node-name\": \"rn3\"}"), 400,
                "GenericError");
        assertError(http.send("POST", "/api/v1/nodes", "{\"driver\": \"null-co\", \"node-name\": \"rn3\", \"bogus\": 1}"),
                400, "GenericError");
        assertError(http.send("POST", "/api/v1/nodes", "{\"driver\": \"null-co\"}"), 400, "GenericError");
        assertError(http.send("POST", "/api/v1/nodes", "[1, 2]"), 400, "GenericError");
        assertError(http.send("POST", "/api/v1/nodes", "{\"driver\": "), 400, "GenericError");
        assertError(http.send("POST", "/api/v1/nodes", null), 400, "GenericError");
        assertError(http.send("GET", "/api/v1/nodes/rn3", null), 404, "DeviceNotFound");   // nothing was half made
        r = http.send("PUT", "/api/v1/nodes/rn2", "{}");
        assertError(r, 405, "GenericError");
        assertEquals("GET, DELETE", r.headers().firstValue("Allow").orElseThrow());
        r = http.send("DELETE", "/api/v1/nodes", null);
        assertError(r, 405, "GenericError");
        assertEquals("GET, POST", r.headers().firstValue("Allow").orElseThrow());
        assertError(http.send("POST", "/api/v1/nodes/rn2/stats", null), 405, "GenericError");
        String huge = "{\"driver\": \"null-co\", \"node-name\": \"" + "x".repeat(HttpGateway.DEFAULT_BODY_LIMIT) + "\"}";
        assertError(http.send("POST", "/api/v1/nodes", huge), 413, "GenericError");
        assertEquals(204, http.send("DELETE", "/api/v1/nodes/rn2", null).statusCode());
    }

    @Test
    void exportsLifecycleWithARealNbdClient() throws Exception {
        assertEquals(201, http.send("POST", "/api/v1/nodes", nullCo("rn4")).statusCode());
        String add = "{\"type\": \"nbd\", \"id\": \"re4\", \"node-name\": \"rn4\", \"name\": \"disk4\", \"writable\": true}";
        HttpResponse<String> r = http.send("POST", "/api/v1/exports", add);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("/api/v1/exports/re4", r.headers().firstValue("Location").orElseThrow());
        assertEquals("rn4", json(r).get("node-name").asText());
        assertFalse(json(r).get("shutting-down").asBoolean());
        assertError(http.send("POST", "/api/v1/exports", add), 409, "GenericError");
        assertError(http.send("POST", "/api/v1/exports",
                "{\"type\": \"nbd\", \"id\": \"re5\", \"node-name\": \"no-node\"}"), 400, "GenericError");
        assertEquals(200, http.send("GET", "/api/v1/exports/re4", null).statusCode());
        r = http.send("GET", "/api/v1/exports", null);
        assertEquals("re4", json(r).get(0).get("id").asText());

        // In use by the export: blockdev-del refuses (GenericError in QEMU), so 409, node intact.
        r = http.send("DELETE", "/api/v1/nodes/rn4", null);
        assertError(r, 409, "GenericError");
        assertEquals(200, http.send("GET", "/api/v1/nodes/rn4", null).statusCode());

        Process io = new ProcessBuilder("qemu-io", "-f", "raw", "nbd+unix:///disk4?socket=" + nbdSocket)
                .redirectErrorStream(true).start();
        try (QmpClient events = QmpClient.negotiated(qmpSocket, false)) {
            Writer in = new OutputStreamWriter(io.getOutputStream(), StandardCharsets.UTF_8);
            BufferedReader out = new BufferedReader(new InputStreamReader(io.getInputStream(), StandardCharsets.UTF_8));
            in.write("write -P 0x5a 0 4096\n");
            in.flush();
            awaitLine(out, "wrote 4096/4096 bytes at offset 0");
            // The client is connected: a safe delete is refused, the export stays.
            assertError(http.send("DELETE", "/api/v1/exports/re4", null), 409, "GenericError");
            assertEquals(200, http.send("GET", "/api/v1/exports/re4", null).statusCode());
            r = http.send("GET", "/api/v1/nodes/rn4/stats", null);
            assertEquals(1, json(r).get("stats").get("wr_operations").asLong(), r.body());
            assertEquals(4096, json(r).get("stats").get("wr_bytes").asLong(), r.body());
            assertError(http.send("DELETE", "/api/v1/exports/re4?mode=sometimes", null), 400, "GenericError");

            // Hard: the client is dropped; DELETE answers once the export is gone.
            r = http.send("DELETE", "/api/v1/exports/re4?mode=hard", null);
            assertEquals(204, r.statusCode(), r.body());
            JsonNode event = events.next();
            assertEquals("BLOCK_EXPORT_DELETED", event.get("event").asText(), event.toString());
            assertEquals("re4", event.get("data").get("id").asText());
            assertError(http.send("GET", "/api/v1/exports/re4", null), 404, "DeviceNotFound");
            assertError(http.send("DELETE", "/api/v1/exports/re4", null), 404, "DeviceNotFound");
            in.write("read 0 512\n");
            in.flush();
            awaitLine(out, "read failed");
        } finally {
            io.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(204, http.send("DELETE", "/api/v1/nodes/rn4", null).statusCode());
    }

    @Test
    void safeDeleteWithoutClientsIsImmediate() throws Exception {
        assertEquals(201, http.send("POST", "/api/v1/nodes", nullCo("rn6")).statusCode());
        assertEquals(201, http.send("POST", "/api/v1/exports",
                "{\"type\": \"nbd\", \"id\": \"re6\", \"node-name\": \"rn6\"}").statusCode());
        assertEquals(204, http.send("DELETE", "/api/v1/exports/re6", null).statusCode());
        assertError(http.send("GET", "/api/v1/exports/re6", null), 404, "DeviceNotFound");
        assertEquals(204, http.send("DELETE", "/api/v1/nodes/rn6", null).statusCode());
    }

    @Test
    void curlDrivesTheResources() throws Exception {
        String base = http.uri("/api/v1/nodes").toString();
        assertEquals("201", curl("-X", "POST", "-H", "Content-Type: application/json", "-d", nullCo("rn7"), base));
        assertEquals("409", curl("-X", "POST", "-d", nullCo("rn7"), base));
        assertEquals("200", curl(base + "/rn7"));
        assertEquals("200", curl(base + "/rn7/stats"));
        assertEquals("204", curl("-X", "DELETE", base + "/rn7"));
        assertEquals("404", curl("-X", "DELETE", base + "/rn7"));
    }

    /** Runs curl and returns the HTTP status it saw. */
    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.trim();
    }

    private static void awaitLine(BufferedReader out, String expected) throws Exception {
        StringBuilder seen = new StringBuilder();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            seen.append(line).append('\n');
            if (line.contains(expected)) {
                return;
            }
        }
        throw new AssertionError("qemu-io ended without '" + expected + "': " + seen);
    }
}
