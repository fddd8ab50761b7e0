package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * The blkdebug filter in a running qmpd: configured by {@code --blockdev} (keyval), by
 * {@code blockdev-add} (JSON) and restored from the state file; qemu-io over NBD sees the injected
 * errors; query-blockstats and the Prometheus scrape count exactly the injected failures; bad
 * rules get QEMU 7.2's error messages and leave the daemon serving.
 */
@Timeout(180)
class FaultInjectionProcessTest {
    @TempDir
    Path dir;

    private Process qmpd;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() throws InterruptedException {
        if (qmpd != null && qmpd.isAlive()) {
            qmpd.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-ea",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "qmpd.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("qmpd.log").toFile()).start();
    }

    private QmpClient connect(Path sock) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            assertTrue(qmpd.isAlive(), () -> "qmpd exited: " + log());
            if (Files.exists(sock)) {
                try {
                    return QmpClient.negotiated(sock, false);
                } catch (IOException e) {
                    // bound, not listening yet
                }
            }
            assertTrue(System.nanoTime() < deadline, () -> "no QMP monitor within 60 s: " + log());
            Thread.sleep(20);   // polling for a process to come up
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("qmpd.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private Path image(String name) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        return p;
    }

    private static String qemuIo(String uri, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(uri);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "qemu-io did not finish");
        return out;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static JsonNode stats(QmpClient c, String node) {
        for (JsonNode e : QmpClient.ret(c.execute("query-blockstats", "{\"query-nodes\": true}", null))) {
            if (node.equals(e.path("node-name").asText())) {
                return e.get("stats");
            }
        }
        throw new AssertionError("no blockstats for " + node);
    }

    /** The value of {@code qmpd_block_failed_total} for a node and operation in a scrape. */
    private static double failedMetric(String scrape, String node, String op) {
        Matcher m = Pattern.compile("(?m)^qmpd_block_failed_total\\{([^}]*)\\} (\\S+)$").matcher(scrape);
        while (m.find()) {
            if (m.group(1).contains("node=\"" + node + "\"") && m.group(1).contains("op=\"" + op + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no qmpd_block_failed_total for " + node + "/" + op + " in:\n" + scrape);
    }

    private String scrape(int port) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    @Test
    void injectedErrorsReachQemuIoAndAreCountedExactly() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("qemu-io", "--version").start().waitFor() == 0, "qemu-io");
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        Path a = image("a.raw");
        Path b = image("b.raw");
        Path state = dir.resolve("state.json");
        int httpPort = freePort();
        // Export a: configured on the command line (keyval). QEMU checks the rule listed last first.
        String[] args = {
            "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
            "--object", "iothread,id=io0",
            "--blockdev", "driver=file,node-name=fa,filename=" + a,
            "--blockdev", "driver=blkdebug,node-name=da,image=fa,"
                + "inject-error.0.event=read_aio,inject-error.0.iotype=read,inject-error.0.sector=8,"
                + "inject-error.1.event=write_aio,inject-error.1.errno=28,inject-error.1.once=on",
            "--blockdev", "driver=raw,node-name=na,file=da",
            "--nbd-server", "addr.type=unix,addr.path=" + nbd,
            "--export", "type=nbd,id=ea,node-name=na,name=a,writable=on,iothread=io0",
            "--http", "host=127.0.0.1,port=" + httpPort,
            "--state-file", state.toString()};
        qmpd = start(args);
        try (QmpClient c = connect(qmp)) {
            // Export b: one blockdev-add with inline children (JSON).
            QmpClient.ret(c.execute("blockdev-add", "{\"driver\": \"raw\", \"node-name\": \"nb\", \"file\": "
                    + "{\"driver\": \"blkdebug\", \"node-name\": \"db\", \"image\": {\"driver\": \"file\", "
                    + "\"node-name\": \"fb\", \"filename\": \"" + b + "\"}, \"inject-error\": ["
                    + "{\"event\": \"flush_to_disk\", \"iotype\": \"flush\", \"once\": true},"
                    + "{\"event\": \"read_aio\", \"errno\": 1, \"once\": true}]}}", null));
            QmpClient.ret(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"eb\", \"node-name\": \"nb\", "
                    + "\"name\": \"b\", \"writable\": true, \"iothread\": \"io0\"}", null));

            String outA = qemuIo("nbd+unix:///a?socket=" + nbd, "read 0 4k", "read 4k 4k", "read 0 8k",
                    "write -P 0x5 0 4k", "write -P 0x6 0 4k", "read -P 0x6 0 4k");
            assertEquals(2, count(outA, "read failed: Input/output error"), outA);
            assertEquals(1, count(outA, "write failed: No space left on device"), outA);
            assertEquals(1, count(outA, "wrote 4096/4096"), outA);
            assertEquals(2, count(outA, "read 4096/4096"), outA);

            String outB = qemuIo("nbd+unix:///b?socket=" + nbd, "read 0 4k", "read 0 4k", "write 0 4k", "flush",
                    "flush");
            assertEquals(1, count(outB, "read failed: Operation not permitted"), outB);
            assertEquals(1, count(outB, "read 4096/4096"), outB);
            assertEquals(1, count(outB, "wrote 4096/4096"), outB);

            JsonNode sa = stats(c, "na");
            assertEquals(2, sa.get("failed_rd_operations").asLong(), sa.toString());
            assertEquals(1, sa.get("failed_wr_operations").asLong(), sa.toString());
            assertEquals(0, sa.get("failed_flush_operations").asLong(), sa.toString());
            assertEquals(2, sa.get("rd_operations").asLong(), sa.toString());
            JsonNode sb = stats(c, "nb");
            assertEquals(1, sb.get("failed_rd_operations").asLong(), sb.toString());
            assertEquals(0, sb.get("failed_wr_operations").asLong(), sb.toString());
            assertEquals(1, sb.get("failed_flush_operations").asLong(), sb.toString());
            assertEquals(0, stats(c, "fb").get("failed_flush_operations").asLong());

            String scrape = scrape(httpPort);
            assertEquals(2.0, failedMetric(scrape, "na", "read"));
            assertEquals(1.0, failedMetric(scrape, "na", "write"));
            assertEquals(1.0, failedMetric(scrape, "nb", "read"));
            assertEquals(1.0, failedMetric(scrape, "nb", "flush"));
            assertEquals(2.0, failedMetric(scrape, "da", "read"));
            assertEquals(0.0, failedMetric(scrape, "fa", "read"));

            JsonNode nodes = QmpClient.ret(c.execute("query-named-block-nodes", null, null));
            int blkdebug = 0;
            for (JsonNode n : nodes) {
                if (n.path("drv").asText().equals("blkdebug")) {
                    blkdebug++;
                }
            }
            assertEquals(2, blkdebug, nodes.toString());
        }

        // The state file restores export b's graph, rules included (fresh: every rule armed again).
        qmpd.destroyForcibly();
        assertTrue(qmpd.waitFor(30, TimeUnit.SECONDS));
        Files.deleteIfExists(qmp);
        qmpd = start(args);
        try (QmpClient c = connect(qmp)) {
            String outB = qemuIo("nbd+unix:///b?socket=" + nbd, "read 0 4k", "read 0 4k");
            assertEquals(1, count(outB, "read failed: Operation not permitted"), outB);
            assertEquals(1, stats(c, "nb").get("failed_rd_operations").asLong());
            QmpClient.ret(c.execute("block-export-del", "{\"id\": \"eb\"}", null));
        }
    }

    @Test
    void badRulesGetQemusErrorsAndTheDaemonKeepsServing() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path img = image("c.raw");
        qmpd = start("--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0");
        String file = "{\"driver\": \"file\", \"filename\": \"" + img + "\"}";
        String[][] cases = {
            // What qemu-storage-daemon 7.2 answers to the same blockdev-add.
            {"\"inject-error\": [{\"event\": \"foo\"}]", "Parameter 'event' does not accept value 'foo'"},
            {"\"inject-error\": [{\"event\": \"read_aio\", \"iotype\": \"x\"}]", "Parameter 'iotype' does not accept value 'x'"},
            {"\"inject-error\": [{\"iotype\": \"read\"}]", "Parameter 'inject-error[0].event' is missing"},
            {"\"inject-error\": [{\"event\": \"read_aio\", \"errno\": \"x\"}]",
                "Invalid parameter type for 'inject-error[0].errno', expected: integer"},
            {"\"inject-error\": {\"event\": \"read_aio\"}", "Invalid parameter type for 'inject-error', expected: array"},
            {"\"inject-error\": [{\"event\": \"read_aio\", \"bogus\": 1}]", "Parameter 'inject-error[0].bogus' is unexpected"},
            {"\"set-state\": [{\"event\": \"read_aio\"}]", "Parameter 'set-state[0].new_state' is missing"},
            {"\"inject-error\": [{\"event\": \"read_aio\", \"once\": \"yes\"}]",
                "Invalid parameter type for 'inject-error[0].once', expected: boolean"},
        };
        try (QmpClient c = connect(qmp)) {
            for (String[] k : cases) {
                QmpClient.assertError(c.execute("blockdev-add", "{\"driver\": \"blkdebug\", \"node-name\": \"d\", "
                        + "\"image\": " + file + ", " + k[0] + "}", null), "GenericError", k[1]);
            }
            QmpClient.assertError(c.execute("blockdev-add", "{\"driver\": \"blkdebug\", \"node-name\": \"d\"}", null),
                    "GenericError", "Parameter 'image' is missing");
            QmpClient.assertError(c.execute("blockdev-add", "{\"driver\": \"blkdebug\", \"node-name\": \"d\", "
                    + "\"image\": \"nonexist\"}", null), "GenericError",
                    "Cannot find device='nonexist' nor node-name='nonexist'");
            // qmpd's extension is checked too.
            QmpClient.assertError(c.execute("blockdev-add", "{\"driver\": \"blkdebug\", \"node-name\": \"d\", "
                    + "\"image\": " + file + ", \"inject-error\": [{\"event\": \"read_aio\", \"x-delay-ns\": -1}]}", null),
                    "GenericError", null);
            // Nothing half-built was left behind; a good one works, and is described as QEMU does.
            assertEquals(0, QmpClient.ret(c.execute("query-named-block-nodes", null, null)).size());
            QmpClient.ret(c.execute("blockdev-add", "{\"driver\": \"blkdebug\", \"node-name\": \"d\", \"image\": "
                    + file + "}", null));
            JsonNode nodes = QmpClient.ret(c.execute("query-named-block-nodes", null, null));
            JsonNode d = null;
            for (JsonNode n : nodes) {
                if (n.path("node-name").asText().equals("d")) {
                    d = n;
                }
            }
            assertEquals("blkdebug", d.path("drv").asText(), nodes.toString());
            assertEquals("blkdebug::" + img, d.path("file").asText(), nodes.toString());
            QmpClient.ret(c.execute("blockdev-del", "{\"node-name\": \"d\"}", null));
            assertEquals(0, QmpClient.ret(c.execute("query-named-block-nodes", null, null)).size());
        }
    }

    /** Polls the scrape (bounded) until {@code pattern} shows up. */
    private void awaitScrape(int port, String pattern) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Pattern p = Pattern.compile(pattern);
        while (!p.matcher(scrape(port)).find()) {
            assertTrue(System.nanoTime() < deadline, "never scraped: " + pattern);
            Thread.sleep(20);   // polling a live process
        }
    }

    @Test
    void delayedRequestsNeverWedgeAnIothreadMoveAnExportDeleteOrABlockdevDel() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("qemu-io", "--version").start().waitFor() == 0, "qemu-io");
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        Path img = image("d.raw");
        int httpPort = freePort();
        qmpd = start("--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--object", "iothread,id=io0", "--object", "iothread,id=io1",
                "--nbd-server", "addr.type=unix,addr.path=" + nbd, "--http", "host=127.0.0.1,port=" + httpPort);
        try (QmpClient c = connect(qmp)) {
            // Every read and write waits 1 s in the filter, then succeeds.
            QmpClient.ret(c.execute("blockdev-add", "{\"driver\": \"raw\", \"node-name\": \"n0\", \"file\": "
                    + "{\"driver\": \"blkdebug\", \"node-name\": \"d0\", \"image\": {\"driver\": \"file\", "
                    + "\"node-name\": \"f0\", \"filename\": \"" + img + "\"}, \"inject-error\": ["
                    + "{\"event\": \"read_aio\", \"errno\": 0, \"x-delay-ns\": 1000000000},"
                    + "{\"event\": \"write_aio\", \"errno\": 0, \"x-delay-ns\": 1000000000}]}}", null));
            QmpClient.ret(c.execute("block-export-add", "{\"type\": \"nbd\", \"id\": \"e0\", \"node-name\": \"n0\", "
                    + "\"name\": \"d\", \"writable\": true, \"iothread\": \"io0\"}", null));

            // Round 1: 16 reads and 16 writes in flight, then the node moves to io1 and back.
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            for (int i = 0; i < 16; i++) {
                cmd.addAll(List.of("-c", "aio_write -P 0x" + Integer.toHexString(0x10 + i) + " " + (i * 65536) + " 64k"));
                cmd.addAll(List.of("-c", "aio_read " + ((16 + i) * 65536) + " 64k"));
            }
            cmd.addAll(List.of("-c", "aio_flush", "nbd+unix:///d?socket=" + nbd));
            Process io = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            awaitScrape(httpPort, "qmpd_nbd_connections_accepted_total\\{[^}]*export=\"e0\"[^}]*\\} [1-9]");
            Thread.sleep(200);   // let the client send its batch; the move below is correct either way
            QmpClient.ret(c.execute("x-blockdev-set-iothread", "{\"node-name\": \"n0\", \"iothread\": \"io1\", "
                    + "\"force\": true}", null));
            QmpClient.ret(c.execute("x-blockdev-set-iothread", "{\"node-name\": \"n0\", \"iothread\": \"io0\", "
                    + "\"force\": true}", null));
            String out = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(io.waitFor(60, TimeUnit.SECONDS), "qemu-io finished");
            assertEquals(0, io.exitValue(), out);
            assertEquals(16, count(out, "wrote 65536/65536"), out);
            assertEquals(16, count(out, "read 65536/65536"), out);
            // No acknowledged write was lost: every pattern is in the file.
            byte[] disk = Files.readAllBytes(img);
            for (int i = 0; i < 16; i++) {
                for (int j = 0; j < 65536; j += 4096) {
                    assertEquals(0x10 + i, disk[i * 65536 + j] & 0xff, "write " + i + " at +" + j);
                }
            }

            // Round 2: a client with requests waiting in the filter; the export is deleted under it.
            Process io2 = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            awaitScrape(httpPort, "qmpd_nbd_connections_accepted_total\\{[^}]*export=\"e0\"[^}]*\\} [2-9]");
            Thread.sleep(200);
            QmpClient.ret(c.execute("block-export-del", "{\"id\": \"e0\", \"mode\": \"hard\"}", null));
            assertTrue(io2.waitFor(60, TimeUnit.SECONDS), "qemu-io ends once its export is gone");
            io2.getInputStream().readAllBytes();
            // The export goes once its last request has drained; then the nodes can be deleted.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (QmpClient.ret(c.execute("query-block-exports", null, null)).size() > 0) {
                assertTrue(System.nanoTime() < deadline, "export e0 never went away");
                Thread.sleep(20);   // polling for the export's asynchronous removal
            }
            QmpClient.ret(c.execute("blockdev-del", "{\"node-name\": \"n0\"}", null));
            assertEquals(0, QmpClient.ret(c.execute("query-named-block-nodes", null, null)).size());
            assertTrue(qmpd.isAlive(), log());
        }
    }
}
