package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.metrics.Samples;
import qmpd.qmp.QmpClient;

/**
 * A real Prometheus server (Debian's package) on loopback scrapes a running qmpd every second;
 * through Prometheus' own HTTP API the target is up, and the write counter of the exported node
 * rises while qemu-io writes through the NBD export.
 */
@Timeout(180)
class PrometheusScrapeTest {
    @TempDir
    Path dir;

    private Process qmpd;
    private Process prometheus;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Process p : new Process[] {prometheus, qmpd}) {
            if (p != null && p.isAlive()) {
                p.destroy();
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** One instant vector sample's value from Prometheus, or NaN while it has none. */
    private double query(int port, String promql) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            return Double.NaN;
        }
        JsonNode result = QmpClient.JSON.readTree(r.body()).path("data").path("result");
        return result.isEmpty() ? Double.NaN : Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private double awaitValue(int port, String promql, java.util.function.DoublePredicate ok, String what)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        double v = Double.NaN;
        while (System.nanoTime() < deadline) {
            assertTrue(prometheus.isAlive(), "prometheus exited: " + Files.readString(dir.resolve("prom.log")));
            try {
                v = query(port, promql);
            } catch (IOException e) {
                v = Double.NaN;   // not listening yet
            }
            if (!Double.isNaN(v) && ok.test(v)) {
                return v;
            }
            Thread.sleep(250);   // polling an outside server's scrape cycle; the assertion is the value
        }
        throw new AssertionError(what + ": last value " + v + " for " + promql);
    }

    @Test
    void prometheusScrapesQmpdAndSeesIoThroughAnExport() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/prometheus")),
                "prometheus is not installed (.ci/run installs it)");
        int httpPort = freePort();
        int promPort = freePort();
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        qmpd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "qmpd.Main",
                "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--object", "iothread,id=io0",
                "--blockdev", "driver=null-co,node-name=n0,size=67108864",
                "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                "--export", "type=nbd,id=e0,node-name=n0,name=disk,writable=on,iothread=io0",
                "--http", "host=127.0.0.1,port=" + httpPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("qmpd.log").toFile()).start();

        Files.writeString(dir.resolve("prometheus.yml"), String.join("\n",
                "global:", "  scrape_interval: 1s", "  scrape_timeout: 1s",
                "scrape_configs:", "  - job_name: qmpd", "    static_configs:",
                "      - targets: ['127.0.0.1:" + httpPort + "']", ""));
        prometheus = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + promPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prom.log").toFile()).start();

        assertEquals(1.0, awaitValue(promPort, "up{job=\"qmpd\"}", v -> v == 1.0, "target up"));
        String writes = "qmpd_block_operations_total{job=\"qmpd\",node=\"n0\",op=\"write\"}";
        double before = awaitValue(promPort, writes, v -> v >= 0, "the node's write counter scraped");

        Process io = new ProcessBuilder(List.of("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M",
                "-c", "write -P 0x22 1M 1M", "nbd+unix:///disk?socket=" + nbd)).redirectErrorStream(true).start();
        String out = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(io.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, io.exitValue(), out);

        double after = awaitValue(promPort, writes, v -> v > before, "the write counter rises in Prometheus");
        assertTrue(after >= before + 2, "two writes seen: " + before + " -> " + after);
        double bytes = awaitValue(promPort, "qmpd_block_bytes_total{job=\"qmpd\",node=\"n0\",op=\"write\"}",
                v -> v >= 2 << 20, "bytes written seen by Prometheus");
        assertTrue(bytes >= 2 << 20);
        // The export's connection was counted, and the latency histogram is queryable too.
        awaitValue(promPort, "qmpd_nbd_connections_accepted_total{job=\"qmpd\",export=\"e0\"}", v -> v >= 1,
                "NBD connections seen");
        awaitValue(promPort, "qmpd_block_latency_seconds_count{job=\"qmpd\",node=\"n0\",op=\"write\"}", v -> v >= 2,
                "latency histogram count");

        // promtool on a scrape taken while fio drives I/O through the export (the scrape is taken
        // once the export's write counter has moved, and fio is still running after it).
        Process fio = new ProcessBuilder(List.of("fio", "--name=scrape", "--ioengine=nbd",
                "--uri=nbd+unix:///disk?socket=" + nbd, "--rw=randwrite", "--bs=4k", "--iodepth=8",
                "--time_based", "--runtime=6", "--output=/dev/null")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("fio.log").toFile()).start();
        try {
            String during;
            double fioWrites = 0;
            do {
                Thread.sleep(100);
                during = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                fioWrites = Samples.value(during, "qmpd_nbd_requests_total", "export=e0", "command=write");
            } while (fioWrites < 3 && fio.isAlive());
            assertTrue(fio.isAlive(), "fio still writing when the scrape was taken: " + Files.readString(dir.resolve("fio.log")));
            assertEquals("exit=0", Samples.promtool(during));
            assertEquals(1, Samples.value(during, "qmpd_qmp_monitors"));
            assertTrue(fio.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, fio.exitValue(), Files.readString(dir.resolve("fio.log")));
        } finally {
            fio.destroyForcibly();
        }

        // The Grafana dashboard in docs/: every expression is valid PromQL for this Prometheus, and
        // every qmpd series it reads exists in a scrape.
        try (QmpClient c = QmpClient.negotiated(qmp, false)) {
            QmpClient.ret(c.execute("query-status", null, null));   // so QMP command series exist
        }
        String scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        JsonNode dashboard = QmpClient.JSON.readTree(Path.of(System.getProperty("qmpd.root.dir", ".."),
                "docs", "grafana-qmpd.json").toFile());
        int checked = 0;
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                String expr = target.get("expr").asText();
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + promPort
                        + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), panel.get("title").asText() + ": " + expr + " -> " + r.body());
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("qmpd_[a-z_]+").matcher(expr);
                while (m.find()) {
                    assertTrue(scrape.contains("\n" + m.group()), panel.get("title").asText() + ": no " + m.group());
                }
                checked++;
            }
        }
        assertTrue(checked >= 17, "dashboard expressions checked: " + checked);
    }
}
