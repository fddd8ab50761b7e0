package qmpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * Where a real qmpd process listens, and who may connect (docs/command-line.md, "Network
 * listeners"): UNIX sockets are owner-only whatever the umask; an empty host, which QEMU reads as
 * every interface, is refused for QMP, NBD and HTTP; a named non-loopback host is the user's
 * explicit choice and is served, with a warning.
 */
@Timeout(60)
class ListenSecurityTest {
    @TempDir
    Path dir;
    /** Reads the started process's stderr after the line start() waited for. */
    private Thread drain;

    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "qmpd.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs qmpd to its exit; returns status and output. */
    private static String[] runToExit(String... args) throws Exception {
        Process p = new ProcessBuilder(java(args)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("qmpd did not exit: " + out);
        }
        return new String[] {String.valueOf(p.exitValue()), out.strip()};
    }

    /** Starts qmpd under {@code umask} and reads stderr up to the first line containing {@code until}. */
    private Process start(String umask, String until, List<String> seen, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$@\"", "sh"));
        cmd.addAll(java(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("QMPD_LOG", "debug");   // the most the log ever says
        Process p = pb.start();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        for (String l = err.readLine(); l != null; l = err.readLine()) {
            seen.add(l);
            if (l.contains(until)) {
                drain = Thread.ofPlatform().daemon(true).start(() -> {
                    try {
                        err.lines().forEach(seen::add);
                    } catch (java.io.UncheckedIOException e) {
                        // the stream closed with the process
                    }
                });
                return p;
            }
        }
        throw new AssertionError("qmpd exited before listening: " + seen);
    }

    /** Stops with SIGTERM (a clean stop), then waits for the rest of its stderr. */
    private void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        drain.join(10_000);
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void qmpAndNbdSocketsAreOwnerOnlyEvenUnderAPermissiveUmask() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path nbd = dir.resolve("nbd.sock");
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Process p = start("000", "listening on unix:", seen, "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0",
                "--monitor", "chardev=m0", "--nbd-server", "addr.type=unix,addr.path=" + nbd);
        try {
            try (QmpClient c = QmpClient.negotiated(qmp, false)) {
                // the NBD server is started before the monitor listens; ask anyway so the file exists
                assertTrue(c.execute("query-version", null, null).has("return"));
            }
            assertEquals("rw-------", mode(qmp), "QMP socket");
            assertEquals("rw-------", mode(nbd), "NBD socket");
        } finally {
            stop(p);
        }
    }

    @Test
    void anEmptyHostIsRefusedForQmpNbdAndHttp() throws Exception {
        String[] qmp = runToExit("--chardev", "socket,host=,port=0,server=on,wait=off,id=m0", "--monitor", "chardev=m0");
        assertEquals("1", qmp[0], qmp[1]);
        assertTrue(qmp[1].contains("empty host would listen on every interface"), qmp[1]);

        String[] nbd = runToExit("--nbd-server", "addr.type=inet,addr.host=,addr.port=0");
        assertEquals("1", nbd[0], nbd[1]);
        assertTrue(nbd[1].contains("empty host would listen on every interface"), nbd[1]);

        String[] http = runToExit("--http", "host=,port=0");
        assertEquals("1", http[0], http[1]);
        assertTrue(http[1].contains("empty host would listen on every interface"), http[1]);
    }

    @Test
    void aNamedNonLoopbackHostIsServedWithAWarning() throws Exception {
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Process p = start("077", "reachable from other machines", seen, "--chardev", "socket,host=0.0.0.0,port=0,server=on,wait=off,id=m0",
                "--monitor", "chardev=m0");
        try {
            assertTrue(seen.stream().anyMatch(l -> l.startsWith("qmpd: warning: monitor m0 listens on tcp:0.0.0.0:")
                    && l.endsWith("reachable from other machines without authentication")), seen::toString);
        } finally {
            stop(p);
        }
    }

    @Test
    void theHttpTokenNeverReachesTheLogEvenAtDebugLevel() throws Exception {
        String secret = "s3cr3t-" + Long.toHexString(System.nanoTime());
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, secret + "\n");
        Path qmp = dir.resolve("qmp.sock");
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Process p = start("077", "http listening on", seen, "--chardev",
                "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--http", "host=127.0.0.1,port=0,token-file=" + tokenFile);
        try {
            String line = seen.stream().filter(l -> l.contains("http listening on")).findFirst().orElseThrow();
            String base = line.substring(line.indexOf("http://"));
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            for (String auth : List.of("Bearer " + secret, "Bearer wrong-" + secret, secret)) {
                java.net.http.HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(base + "/api/v1/commands/blockdev-add"))
                        .header("Authorization", auth)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                "{\"driver\": \"file\", \"node-name\": \"n0\", \"filename\": \"" + dir.resolve("missing")
                                        + "\"}")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertTrue(r.statusCode() == 400 || r.statusCode() == 401, r.statusCode() + " " + r.body());
                assertTrue(!r.body().contains(secret), r.body());
            }
        } finally {
            stop(p);
        }
        assertTrue(seen.stream().anyMatch(l -> l.contains("event=http-listening")), () -> "the log is on: " + seen);
        assertTrue(seen.stream().noneMatch(l -> l.contains(secret)), () -> "the token in the log: " + seen);
    }
}
