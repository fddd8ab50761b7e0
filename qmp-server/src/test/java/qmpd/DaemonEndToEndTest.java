package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * qmpd as a process, started the way users start qemu-storage-daemon, and with no arguments (the
 * embedded default); driven by QMP and by real NBD clients (qemu-img, qemu-io).
 */
@Timeout(120)
class DaemonEndToEndTest {
    @TempDir
    Path dir;

    private Process daemon;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process start(List<String> args, Path runtimeDir) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-ea",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "qmpd.Main"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile());
        if (runtimeDir != null) {
            pb.environment().put("QMPD_RUNTIME_DIR", runtimeDir.toString());
            pb.environment().put("QMPD_HTTP_PORT", "0");
        }
        return pb.start();
    }

    private QmpClient connect(Path sock) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            assertTrue(daemon.isAlive(), () -> "qmpd exited: " + text("err.txt"));
            if (Files.exists(sock)) {
                try {
                    return QmpClient.negotiated(sock, false);
                } catch (IOException e) {
                    // bound, not listening yet
                }
            }
            assertTrue(System.nanoTime() < deadline, "no QMP monitor within 30 s: " + text("err.txt"));
            Thread.onSpinWait();
        }
    }

    private String text(String name) {
        try {
            return Files.readString(dir.resolve(name));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void qemuStorageDaemonCommandLine() throws Exception {
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(64 << 20);
        }
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        Path pid = dir.resolve("qmpd.pid");
        daemon = start(List.of(
                "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--object", "iothread,id=io0",
                "--blockdev", "driver=file,node-name=f0,filename=" + img,
                "--blockdev", "{\"driver\": \"raw\", \"node-name\": \"r0\", \"file\": \"f0\"}",
                "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                "--export", "type=nbd,id=e0,node-name=r0,name=disk,writable=on,iothread=io0",
                "--pidfile", pid.toString()), null);
        try (QmpClient c = connect(qmp)) {
            assertEquals(String.valueOf(daemon.pid()), Files.readString(pid).trim());
            JsonNode exports = QmpClient.ret(c.execute("query-block-exports", null, null));
            assertEquals("e0", exports.get(0).get("id").asText());
            assertEquals("r0", exports.get(0).get("node-name").asText());
            String uri = "nbd+unix:///disk?socket=" + nbd;
            assertTrue(run("qemu-img", "info", "--output=json", uri).contains("\"virtual-size\": 67108864"));
            String io = run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 4096 8192", "-c", "read -P 0x5a 4096 8192", uri);
            assertFalse(io.contains("Pattern verification failed"), io);
            // The export runs in io0: it cannot be deleted while the node lives there.
            QmpClient.assertError(c.execute("object-del", "{\"id\": \"io0\"}", null), "GenericError",
                    "object 'io0' is in use, can not be deleted");
            JsonNode stats = QmpClient.ret(c.execute("query-blockstats", "{\"query-nodes\": true}", null));
            for (JsonNode s : stats) {
                if (s.get("node-name").asText().equals("r0")) {
                    assertEquals(8192, s.get("stats").get("wr_bytes").asLong());
                    assertEquals(1, s.get("stats").get("wr_operations").asLong());
                }
            }
        }
        daemon.destroy();   // SIGTERM
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, daemon.exitValue(), text("err.txt"));
        assertFalse(Files.exists(pid), "pidfile removed");
        assertFalse(Files.exists(nbd), "NBD socket removed");
        assertFalse(Files.exists(qmp), "QMP socket removed");
        byte[] data = Files.readAllBytes(img);
        for (int i = 4096; i < 4096 + 8192; i++) {
            assertEquals(0x5a, data[i] & 0xff, "byte " + i + " written through NBD is in the file");
        }
    }

    @Test
    void aSecondInstanceOnTheSamePidfileAndSocketsFailsClearly() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path pid = dir.resolve("qmpd.pid");
        daemon = start(List.of("--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--pidfile", pid.toString()), null);
        connect(qmp).close();
        Process second = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "qmpd.Main",
                "--pidfile", pid.toString()).redirectErrorStream(true).start();
        String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(second.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, second.exitValue(), out);
        assertTrue(out.contains("pid file"), out);
        // Same monitor socket, own pidfile: refused without disturbing the first.
        Process third = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "qmpd.Main",
                "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0")
                .redirectErrorStream(true).start();
        String out3 = new String(third.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(third.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, third.exitValue(), out3);
        assertTrue(out3.contains("another server is answering on it"), out3);
        assertTrue(Files.exists(qmp), "the first instance's socket is left alone");
        connect(qmp).close();
        assertTrue(daemon.isAlive(), "the first instance keeps running");
    }

    @Test
    void embeddedDefaultServesWhatItPrints() throws Exception {
        Path runtime = dir.resolve("rt");
        daemon = start(List.of(), runtime);
        try (QmpClient c = connect(runtime.resolve("qmp.sock"))) {
            JsonNode threads = QmpClient.ret(c.execute("query-iothreads", null, null));
            assertEquals("io0", threads.get(0).get("id").asText());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!text("out.txt").contains("disk file")) {
            assertTrue(System.nanoTime() < deadline, "endpoints printed: " + text("out.txt"));
            Thread.onSpinWait();
        }
        Matcher m = Pattern.compile("qemu-img info '([^']+)'").matcher(text("out.txt"));
        assertTrue(m.find(), text("out.txt"));
        String info = run("qemu-img", "info", m.group(1));
        assertTrue(info.contains("virtual size: 1 GiB"), info);
        Matcher nbdinfo = Pattern.compile("nbdinfo '([^']+)'").matcher(text("out.txt"));
        assertTrue(nbdinfo.find(), text("out.txt"));
        String described = run("nbdinfo", nbdinfo.group(1));
        assertTrue(described.contains("export-size: 1073741824"), described);
        // The printed QMP one-liner, run by a shell exactly as printed.
        Matcher qmpLine = Pattern.compile("try     : (\\(printf .*socat .*)").matcher(text("out.txt"));
        assertTrue(qmpLine.find(), text("out.txt"));
        String threads = run("bash", "-c", qmpLine.group(1));
        assertTrue(threads.contains("\"id\": \"io0\""), threads);
        // The printed curl commands, run as printed.
        Matcher curl = Pattern.compile("(curl -s -X POST (\\S+) -d '([^']+)')").matcher(text("out.txt"));
        assertTrue(curl.find(), text("out.txt"));
        String exports = run("curl", "-s", "-X", "POST", curl.group(2), "-d", curl.group(3));
        assertTrue(exports.contains("\"id\": \"disk0\"") || exports.contains("\"id\":\"disk0\""), exports);
        Matcher scrape = Pattern.compile("curl -s (\\S+/metrics)").matcher(text("out.txt"));
        assertTrue(scrape.find(), text("out.txt"));
        String metricsText = run("curl", "-s", scrape.group(1));
        assertTrue(metricsText.contains("qmpd_"), metricsText.substring(0, Math.min(500, metricsText.length())));
        assertEquals(1L << 30, Files.size(runtime.resolve("disk0.img")));
        daemon.destroy();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, daemon.exitValue(), text("err.txt"));
    }

    // ---------------------------------------------------------------- --state-file

    private List<String> stateArgs(Path qmp, Path state) {
        return List.of("--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--object", "iothread,id=io0", "--state-file", state.toString());
    }

    private static JsonNode ok(JsonNode reply) {
        return QmpClient.ret(reply);
    }

    @Test
    void stateFileChangesSurviveSigkill() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        Path state = dir.resolve("state.json");
        daemon = start(stateArgs(qmp, state), null);
        try (QmpClient c = connect(qmp)) {
            ok(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": 0}", null));
            ok(c.execute("blockdev-add", "{\"driver\": \"null-co\", \"node-name\": \"n1\", \"size\": 16777216}", null));
            ok(c.execute("blockdev-add", "{\"driver\": \"null-co\", \"node-name\": \"gone\"}", null));
            ok(c.execute("nbd-server-start", "{\"addr\": {\"type\": \"unix\", \"data\": {\"path\": \"" + nbd + "\"}}}", null));
            ok(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"e1\", \"node-name\": \"n1\", "
                    + "\"name\": \"disk\", \"iothread\": \"io1\"}", null));
            ok(c.execute("blockdev-del", "{\"node-name\": \"gone\"}", null));
            // A command that fails changes nothing and records nothing.
            c.execute("blockdev-add", "{\"driver\": \"null-co\", \"node-name\": \"n1\"}", null);
            // io0 came from the command line; deleting it is a change to restore too.
            ok(c.execute("object-del", "{\"id\": \"io0\"}", null));
        }
        // SIGKILL right after the last reply: that change was written before the reply left.
        daemon.destroyForcibly();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        String recorded = Files.readString(state);
        assertFalse(recorded.contains("\"gone\""), "an add and its delete cancel out: " + recorded);
        Files.deleteIfExists(qmp);
        Files.deleteIfExists(nbd);

        daemon = start(stateArgs(qmp, state), null);
        try (QmpClient c = connect(qmp)) {
            JsonNode threads = ok(c.execute("query-iothreads", null, null));
            assertEquals(1, threads.size(), threads.toString());
            assertEquals("io1", threads.get(0).get("id").asText());
            assertEquals(0, threads.get(0).get("poll-max-ns").asLong());
            JsonNode nodes = ok(c.execute("query-named-block-nodes", null, null));
            assertEquals(1, nodes.size(), nodes.toString());
            assertEquals("n1", nodes.get(0).get("node-name").asText());
            JsonNode exports = ok(c.execute("query-block-exports", null, null));
            assertEquals("e1", exports.get(0).get("id").asText());
            String info = run("qemu-img", "info", "--output=json", "nbd+unix:///disk?socket=" + nbd);
            assertTrue(info.contains("\"virtual-size\": 16777216"), info);
            // Restoring is not a change: the file is as it was.
            assertEquals(recorded, Files.readString(state));
        }
    }

    @Test
    void aCorruptStateFileStopsTheStartAndIsLeftUntouched() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path state = dir.resolve("state.json");
        String corrupt = "{\"format\": 1, \"commands\": [{\"execute\": \"blockdev-add\", \"argu";
        Files.writeString(state, corrupt);
        daemon = start(stateArgs(qmp, state), null);
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, daemon.exitValue());
        String err = text("err.txt");
        assertTrue(err.contains("qmpd: --state-file " + state + ": " + state + ": not valid JSON"), err);
        assertEquals(corrupt, Files.readString(state), "the file is left untouched");
        assertFalse(Files.exists(qmp), "no monitor was started");

        // Valid JSON whose command cannot be carried out also stops the start, naming it.
        Files.writeString(state, "{\"format\": 1, \"commands\": [{\"execute\": \"blockdev-add\", \"arguments\": "
                + "{\"driver\": \"file\", \"node-name\": \"f\", \"filename\": \"" + dir.resolve("missing.raw") + "\"}}]}");
        daemon = start(stateArgs(qmp, state), null);
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, daemon.exitValue());
        assertTrue(text("err.txt").contains("commands[0] (blockdev-add): Could not open"), text("err.txt"));
    }

    // ---------------------------------------------------------------- --daemonize

    @Test
    void daemonizeReturnsOnceReadyAndTheDaemonRunsOn() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path pid = dir.resolve("qmpd.pid");
        daemon = start(List.of("--daemonize", "--pidfile", pid.toString(),
                "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--object", "iothread,id=io0"), null);
        assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "the parent returns");
        assertEquals(0, daemon.exitValue(), text("err.txt"));
        // Ready means ready: the monitor listens and the pidfile names the daemon, not the parent.
        assertTrue(Files.exists(qmp));
        long daemonPid = Long.parseLong(Files.readString(pid).trim());
        assertNotEquals(daemon.pid(), daemonPid);
        ProcessHandle d = ProcessHandle.of(daemonPid).orElseThrow();
        try (QmpClient c = QmpClient.negotiated(qmp, false)) {
            assertEquals("io0", QmpClient.ret(c.execute("query-iothreads", null, null)).get(0).get("id").asText());
        }
        d.destroy();   // SIGTERM
        d.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(pid), "the daemon removed its pidfile");
    }

    @Test
    void daemonizeReportsAFailedStartAndExitsOne() throws Exception {
        daemon = start(List.of("--daemonize", "--blockdev", "driver=file,node-name=f,filename=" + dir.resolve("missing")), null);
        assertTrue(daemon.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, daemon.exitValue());
        assertTrue(text("err.txt").contains("Could not open"), text("err.txt"));
    }
}
