package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.assertError;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * End to end: {@code qmpd.Main} as a real process (the test classpath, so it runs before the
 * package phase), driven by a QMP client: IOThreads listed, added, tuned and deleted, with
 * {@code thread-id} naming a real thread of that process; {@code quit} and SIGTERM both stop it
 * cleanly with status 0 and remove its socket.
 */
class MainProcessTest {
    @TempDir
    Path dir;

    /** A started daemon and what it printed on stderr up to "listening". */
    record Daemon(Process process, List<String> stderr) {
    }

    private Daemon start(Path sock, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "qmpd.Main",
                "--chardev", "socket,path=" + sock + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        for (String l = err.readLine(); l != null; l = err.readLine()) {
            lines.add(l);
            if (l.contains("listening on")) {
                Thread.ofPlatform().daemon(true).start(() -> err.lines().forEach(x -> { }));
                return new Daemon(p, lines);
            }
        }
        throw new AssertionError("qmpd exited with " + waitFor(p) + " before listening: " + lines);
    }

    private static int waitFor(Process p) {
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Test
    @Timeout(90)
    void aClientManagesIothreadsOfARealDaemonAndQuitStopsItCleanly() throws Exception {
        Path sock = dir.resolve("qmp.sock");
        Daemon d = start(sock, "--object", "iothread,id=io0");
        // Options apply in order: the monitor listens before io0 exists; query-iothreads below shows it.
        long pid = d.process().pid();
        try (QmpClient c = QmpClient.negotiated(sock, false)) {
            JsonNode list = ret(c.execute("query-iothreads", null, null));
            assertEquals(1, list.size());
            assertEquals("io0", list.get(0).get("id").asText());
            long tid = list.get(0).get("thread-id").asLong();
            assertEquals("iothread-io0", comm(pid, tid));

            ret(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": 1000}", null));
            assertError(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"io1\"}", null), "GenericError",
                    "attempt to add duplicate property 'io1' to object (type 'container')");
            ret(c.execute("qom-set", "{\"path\": \"/objects/io1\", \"property\": \"poll-max-ns\", \"value\": 65536}", null));
            list = ret(c.execute("query-iothreads", null, null));
            assertEquals(2, list.size());
            JsonNode io1 = byId(list, "io1");
            assertEquals(65536, io1.get("poll-max-ns").asInt());
            long tid1 = io1.get("thread-id").asLong();
            assertEquals("iothread-io1", comm(pid, tid1));

            ret(c.execute("object-del", "{\"id\": \"io1\"}", null));
            assertEquals(1, ret(c.execute("query-iothreads", null, null)).size());

            c.send("{\"execute\": \"quit\"}\n");
            assertEquals("SHUTDOWN", c.next().get("event").asText());
            assertTrue(c.next().has("return"));
            c.awaitEof();
        }
        assertEquals(0, waitFor(d.process()));
        assertFalse(Files.exists(sock), "socket file removed");
    }

    @Test
    @Timeout(90)
    void sigtermStopsTheDaemonWithStatusZero() throws Exception {
        Path sock = dir.resolve("term.sock");
        Daemon d = start(sock);
        try (QmpClient c = QmpClient.negotiated(sock, false)) {
            ret(c.execute("query-status", null, null));
            d.process().destroy();   // SIGTERM
            c.awaitEof();
        }
        assertEquals(0, waitFor(d.process()));
        assertFalse(Files.exists(sock), "socket file removed");
    }

    @Test
    @Timeout(60)
    void aBadCommandLineFailsWithStatusOne() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "qmpd.Main",
                "--monitor", "chardev=nosuch")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, waitFor(p), out);
        // qemu-storage-daemon 7.2 prints exactly this.
        assertEquals("qmpd: --monitor chardev=nosuch: chardev \"nosuch\" not found", out.strip());
    }

    private static JsonNode byId(JsonNode list, String id) {
        for (JsonNode n : list) {
            if (n.get("id").asText().equals(id)) {
                return n;
            }
        }
        throw new AssertionError(id + " not in " + list);
    }

    private static String comm(long pid, long tid) throws IOException {
        String name = Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/comm")).trim();
        return name;
    }
}
