package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code qmpd.Main} as a process with an {@code --http} listener on port 0: waits for the line that
 * names the bound port, and stops the daemon with SIGTERM on close.
 */
final class QmpdProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("qmpd: http listening on (https?)://[^\\s]+:(\\d+)");

    final Process process;
    final Path log;
    private int port = -1;

    private QmpdProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts qmpd with {@code args} (which should include an {@code --http ...,port=0}). */
    static QmpdProcess start(Path dir, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-ea",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "qmpd.Main"));
        cmd.addAll(args);
        Path log = Files.createTempFile(dir, "qmpd-", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new QmpdProcess(p, log);
    }

    /** Waits (up to 60 s) for the HTTP listener and returns its port. */
    int awaitHttp() throws Exception {
        if (port != -1) {
            return port;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Matcher m = LISTENING.matcher(output());
            if (m.find()) {
                port = Integer.parseInt(m.group(2));
                return port;
            }
            assertTrue(process.isAlive(), () -> "qmpd exited: " + output());
            assertTrue(System.nanoTime() < deadline, () -> "no HTTP listener within 60 s: " + output());
            Thread.sleep(50);   // waiting for another process's start-up, not timing anything
        }
    }

    /** Waits for a start-up that must fail; returns its exit status. */
    int awaitExit() throws InterruptedException {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), () -> "qmpd still running: " + output());
        return process.exitValue();
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
