package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * {@code bin/qmpd} itself, after the package phase (the jar it runs must exist): its start-up
 * cache is created by the first start, used by the next ones, and never stops qmpd from starting
 * when it is unusable; the JVM's own messages never reach the daemon's stdout; {@code --daemonize}
 * works through it. The cache goes to a private file (QMPD_AOT_CACHE), not next to the jar.
 */
@Timeout(600)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LauncherIT {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path LAUNCHER = ROOT.resolve("bin/qmpd");

    @TempDir
    static Path shared;   // the cache, kept from one test to the next

    @TempDir
    Path dir;

    private Path cache() {
        return shared.resolve("qmpd.aot");
    }

    /** Starts bin/qmpd (embedded default unless args are given) with stdout and stderr in files. */
    private Process launch(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile());
        pb.environment().put("QMPD_RUNTIME_DIR", dir.resolve("run").toString());
        pb.environment().put("QMPD_HTTP_PORT", "0");
        pb.environment().put("QMPD_AOT_CACHE", cache().toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    private String text(String name) {
        try {
            return Files.readString(dir.resolve(name));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Waits for the greeting of the embedded default's monitor and negotiates. */
    private QmpClient connect(Process p) throws Exception {
        Path sock = dir.resolve("run/qmp.sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(400);   // includes a training run
        while (true) {
            assertTrue(p.isAlive(), () -> "bin/qmpd exited: " + text("err.txt"));
            if (Files.exists(sock)) {
                try {
                    return QmpClient.negotiated(sock, false);
                } catch (IOException e) {
                    // bound, not accepting yet
                }
            }
            assertTrue(System.nanoTime() < deadline, "no greeting: " + text("err.txt"));
            Thread.sleep(20);
        }
    }

    /** quit, then the exit status and what the daemon printed on stdout. */
    private String quit(Process p, QmpClient c) throws Exception {
        c.execute("quit", null, null);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quit did not stop bin/qmpd");
        assertEquals(0, p.exitValue(), text("err.txt"));
        return text("out.txt");
    }

    /** The embedded default's stdout is its endpoint listing and nothing else: no JVM warning. */
    private static void assertOnlyEndpoints(String stdout) {
        for (String line : stdout.split("\n")) {
            assertFalse(line.startsWith("["), "JVM log line on stdout: " + line);
            assertFalse(line.toLowerCase(java.util.Locale.ROOT).contains("warning"), "warning on stdout: " + line);
        }
        assertTrue(stdout.startsWith("qmpd is running"), stdout);
    }

    /** Whether {@code pid} has {@code file} mapped, as the JVM maps the cache it uses. */
    private static boolean maps(long pid, Path file) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/maps")).contains(file.toString());
    }

    @Test
    @Order(1)
    void firstStartCreatesTheCacheAndTheNextStartMapsIt() throws Exception {
        Process p = launch(Map.of());
        try (QmpClient c = connect(p)) {
            JsonNode v = QmpClient.ret(c.execute("query-version", null, null));
            assertEquals(7, v.get("qemu").get("major").asInt());
            assertOnlyEndpoints(quit(p, c));
        }
        assertTrue(Files.size(cache()) > 0, "cache created: " + text("err.txt"));
        assertTrue(text("err.txt").contains("creating the start-up cache"), text("err.txt"));

        Process again = launch(Map.of());
        try (QmpClient c = connect(again)) {
            assertTrue(maps(again.pid(), cache()), "the second start uses the cache");
            assertFalse(text("err.txt").contains("creating the start-up cache"), "no second training run");
            assertOnlyEndpoints(quit(again, c));
        }
    }

    @Test
    @Order(2)
    void anUnusableCacheOnlyMakesTheJvmWarnOnStderr() throws Exception {
        Assumptions.cacheExists(cache());
        byte[] good = Files.readAllBytes(cache());
        try {
            Files.write(cache(), "not a JVM cache".getBytes(StandardCharsets.US_ASCII));
            Files.setLastModifiedTime(cache(), FileTime.fromMillis(System.currentTimeMillis() + 60_000));
            Process p = launch(Map.of());
            try (QmpClient c = connect(p)) {
                JsonNode iothreads = QmpClient.ret(c.execute("query-iothreads", null, null));
                assertEquals("io0", iothreads.get(0).get("id").asText());
                assertOnlyEndpoints(quit(p, c));
            }
            assertTrue(text("err.txt").contains("aot"), "the JVM says why on stderr: " + text("err.txt"));
        } finally {
            Files.write(cache(), good);
            Files.setLastModifiedTime(cache(), FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        }
    }

    @Test
    @Order(3)
    void daemonizeWorksThroughTheLauncherWithTheCache() throws Exception {
        Assumptions.cacheExists(cache());
        Path sock = dir.resolve("d.sock");
        Path pidfile = dir.resolve("d.pid");
        Process parent = launch(Map.of(), "--daemonize", "--pidfile", pidfile.toString(),
                "--chardev", "socket,path=" + sock + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0");
        assertTrue(parent.waitFor(120, TimeUnit.SECONDS), "the parent returns once the daemon is ready");
        assertEquals(0, parent.exitValue(), text("err.txt"));
        long pid = Long.parseLong(Files.readString(pidfile).trim());
        ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
        try (QmpClient c = QmpClient.negotiated(sock, false)) {
            assertTrue(maps(pid, cache()), "the daemonized child uses the cache too");
            c.execute("quit", null, null);
        }
        assertTrue(daemon.onExit().get(60, TimeUnit.SECONDS) != null);
        assertFalse(Files.exists(pidfile), "pidfile removed on quit");
    }

    @Test
    @Order(4)
    void withTheCacheOffNothingIsMappedOrCreated() throws Exception {
        Path other = dir.resolve("never.aot");
        Process p = launch(Map.of("QMPD_AOT", "off", "QMPD_AOT_CACHE", other.toString()));
        try (QmpClient c = connect(p)) {
            assertFalse(maps(p.pid(), other));
            assertOnlyEndpoints(quit(p, c));
        }
        assertFalse(Files.exists(other));
    }

    /** The later tests need the cache the first one made. */
    private static final class Assumptions {
        static void cacheExists(Path cache) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(cache), "needs the cache of test 1");
        }
    }
}
