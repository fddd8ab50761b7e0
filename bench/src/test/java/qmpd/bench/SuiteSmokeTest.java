package qmpd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark suite ({@code bench/suite.py}) in its smoke mode, end to end: real qmpd,
 * qemu-storage-daemon, nbdkit and fio on UNIX sockets, one short workload per target, one round.
 * It checks that the suite ran every target and wrote well-formed results; it asserts nothing
 * about performance (the figures of a one-second run on a shared machine mean nothing).
 *
 * <p>qmpd is started from this test's class path ({@code qmpd.Main}), so no packaged distribution
 * and no nested build are needed; the QMP load client comes from the same class path.
 */
@Timeout(600)
class SuiteSmokeTest {
    private static final Map<String, List<String>> TARGETS = Map.of(
            "null", List.of("qmpd", "qsd", "nbdkit-null"),
            "file", List.of("qmpd", "qsd", "nbdkit-file", "fio-direct"));

    @TempDir
    Path out;

    private static boolean installed(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    private static String quote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    @Test
    void smokeRunMeasuresEveryTargetAndWritesWellFormedResults() throws Exception {
        for (String tool : List.of("python3", "fio", "nbdkit", "qemu-storage-daemon", "taskset")) {
            assumeTrue(installed(tool), tool + " is not installed (.ci/run installs it)");
        }
        Path root = Path.of(System.getProperty("qmpd.root.dir", ".")).toAbsolutePath();
        Path docs = root.resolve("docs/benchmarks.md");
        String docsBefore = Files.readString(docs);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        List<String> qmpd = List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-cp", cp, "qmpd.Main");
        List<String> cmd = new ArrayList<>(List.of("python3", root.resolve("bench/suite.py").toString(), "--smoke",
                "--no-build", "--no-install", "--out", out.toString(),
                "--qmpd-cmd", String.join(" ", qmpd.stream().map(SuiteSmokeTest::quote).toList()),
                "--bench-cp", cp));
        Path log = out.resolve("suite.log");
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(540, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("suite did not finish: " + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), () -> "suite failed:\n" + readQuietly(log));

        List<Path> results;
        try (Stream<Path> s = Files.list(out)) {
            results = s.filter(f -> f.getFileName().toString().matches("results-.*\\.json")).toList();
        }
        assertEquals(1, results.size(), "one results file in " + out);
        JsonNode doc = new ObjectMapper().readTree(results.get(0).toFile());
        assertEquals("smoke", doc.path("mode").asText());
        assertEquals(0, doc.path("nbd").path("errors").asInt(-1), () -> "failed runs: " + doc.path("nbd"));

        for (var e : TARGETS.entrySet()) {
            for (String target : e.getValue()) {
                JsonNode row = find(doc.path("nbd").path("summary"), e.getKey(), target);
                assertNotNull(row, "no result for " + e.getKey() + "/" + target + ": " + readQuietly(log));
                assertTrue(row.path("iops").path("median").asDouble() > 0, e.getKey() + "/" + target + " IOPS: " + row);
                assertTrue(row.path("p99_us").path("median").asDouble() > 0, "p99 of " + target + ": " + row);
                if (!target.equals("fio-direct")) {
                    assertTrue(row.path("server_cpu_us_per_io").path("median").asDouble() > 0, "CPU/IO: " + row);
                    assertTrue(row.path("rss_mib").asDouble() > 0, "RSS: " + row);
                }
            }
        }
        for (String target : List.of("qmpd", "qsd")) {
            for (int clients : new int[] {1, 8}) {
                JsonNode row = null;
                for (JsonNode r : doc.path("qmp").path("summary")) {
                    if (r.path("target").asText().equals(target) && r.path("clients").asInt() == clients) {
                        row = r;
                    }
                }
                assertNotNull(row, "no QMP result for " + target + " x" + clients);
                assertTrue(row.path("rate").path("median").asDouble() > 0, "QMP rate: " + row);
                assertEquals(0, row.path("errors").asInt(-1), "QMP errors: " + row);
            }
        }
        JsonNode startup = doc.path("startup");
        assertTrue(startup.path("start_to_greeting_s").get(0).asDouble() > 0, "start-up: " + startup);
        assertTrue(startup.path("idle_rss_kib").get(0).asLong() > 0, "idle RSS: " + startup);
        assertTrue(doc.path("goals").size() >= 15, "goals table: " + doc.path("goals"));
        for (JsonNode g : doc.path("goals")) {
            assertTrue(g.has("goal") && g.has("limit") && g.has("met"), "goal row: " + g);
        }

        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.startsWith("<!-- suite:begin -->") && report.strip().endsWith("<!-- suite:end -->"), report);
        assertFalse(report.contains("failed"), report);
        assertEquals(docsBefore, Files.readString(docs), "the smoke run must not touch docs/");
    }

    private static JsonNode find(JsonNode summary, String backend, String target) {
        for (JsonNode r : summary) {
            if (r.path("backend").asText().equals(backend) && r.path("target").asText().equals(target)) {
                return r;
            }
        }
        return null;
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
