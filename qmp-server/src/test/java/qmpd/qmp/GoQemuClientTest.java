package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real third-party client: Debian's digitalocean/go-qemu ({@code qmp.SocketMonitor}) built at
 * test time in GOPATH mode from /usr/share/gocode (no network), then run against qmpd: greeting
 * and negotiation, a command, an error, and the SHUTDOWN event of {@code quit}.
 *
 * <p>Missing Go or go-qemu fails the test in CI (the CI script installs both); outside CI it is
 * skipped.
 */
class GoQemuClientTest {
    private static final Path GOPATH = Path.of("/usr/share/gocode");

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void goQemuNegotiatesRunsCommandsSeesErrorsAndEvents() throws Exception {
        Path go = findGo();
        boolean haveLib = Files.isDirectory(GOPATH.resolve("src/github.com/digitalocean/go-qemu/qmp"));
        if (go == null || !haveLib) {
            String why = "go " + (go == null ? "missing" : "found") + ", go-qemu " + (haveLib ? "found" : "missing");
            if (System.getenv("CI") != null) {
                throw new AssertionError("CI must install golang-go and golang-github-digitalocean-go-qemu-dev: " + why);
            }
            Assumptions.abort(why);
        }
        Path src = dir.resolve("qmpclient");
        Files.createDirectories(src);
        try (var in = getClass().getResourceAsStream("/go-qmp-client/main.go.txt")) {
            Files.write(src.resolve("main.go"), in.readAllBytes());
        }
        Path cache = Path.of(System.getProperty("qmpd.root.dir", dir.toString()), "qmp-server", "target", "gocache");
        Map<String, String> env = Map.of("GOPATH", GOPATH.toString(), "GO111MODULE", "off", "GOFLAGS", "",
                "GOPROXY", "off", "GOCACHE", cache.toString(), "CGO_ENABLED", "0");
        Result build = run(List.of(go.toString(), "build", "-o", dir.resolve("qmpclient.bin").toString(), "."),
                src, env, 240);
        assertEquals(0, build.status(), "go build: " + build.output());

        try (TestServer ts = new TestServer(dir)) {
            Path sock = ts.monitor("go");
            Result r = run(List.of(dir.resolve("qmpclient.bin").toString(), sock.toString()), dir, env, 30);
            String out = r.output();
            assertEquals(0, r.status(), out);
            assertTrue(out.contains("version 7.2.22 package=\"qmpd 0.1.0\" caps=[oob]"), out);
            assertTrue(out.contains("query-version {\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
                    + "\"package\": \"qmpd 0.1.0\"}, \"id\": \"v\"} err=<nil>"), out);
            assertTrue(out.contains("object-del error=object 'nosuch' not found"), out);
            assertTrue(out.contains("quit {\"return\": {}} err=<nil>"), out);
            assertTrue(out.contains("event SHUTDOWN guest=false reason=host-qmp-quit seconds>0=true"), out);
            ts.shutdown.get(20, TimeUnit.SECONDS);
            assertEquals(1, ts.shutdowns.get());
        }
    }

    record Result(int status, String output) {
    }

    private static Result run(List<String> cmd, Path cwd, Map<String, String> env, int seconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();   // ends when the process closes its output
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out: " + new String(out, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static Path findGo() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, "go");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        for (String p : List.of("/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }
}
