package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import qmpd.qmp.QmpClient;

/**
 * {@code qmpd.Main} as a real process for the reliability harnesses, with the probes they need from
 * outside: open file descriptors ({@code /proc/PID/fd}), threads by name ({@code /proc/PID/task}),
 * RSS ({@code /proc/PID/status}) and heap used after a full GC ({@code jcmd}). stdout and stderr go
 * to files in the test's directory so a failure can quote them.
 *
 * <p>Not thread-safe: owned by the test thread.
 */
final class QmpdProcess implements AutoCloseable {
    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));
    private static final Pattern USED = Pattern.compile("^\\S.*total \\d+K, used (\\d+)K");

    private final Process process;
    private final Path dir;
    private final String tag;

    private QmpdProcess(Process process, Path dir, String tag) {
        this.process = process;
        this.dir = dir;
        this.tag = tag;
    }

    /** Starts qmpd with {@code args}; its output goes to {@code dir/<tag>.out|.err}. */
    static QmpdProcess start(Path dir, String tag, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(JAVA_HOME.resolve("bin/java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-ea",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "qmpd.Main"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve(tag + ".out").toFile())
                .redirectError(dir.resolve(tag + ".err").toFile()).start();
        return new QmpdProcess(p, dir, tag);
    }

    /** The monitor arguments for a UNIX socket at {@code sock}. */
    static List<String> monitor(Path sock) {
        return List.of("--chardev", "socket,path=" + sock + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0");
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String stderr() {
        try {
            return Files.readString(dir.resolve(tag + ".err"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** A negotiated QMP client once the monitor answers (bounded wait; fails if qmpd exits). */
    QmpClient qmp(Path sock) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            assertTrue(process.isAlive(), () -> "qmpd exited: " + stderr());
            if (Files.exists(sock)) {
                try {
                    return QmpClient.negotiated(sock, false);
                } catch (IOException e) {
                    // bound but not listening yet
                }
            }
            assertTrue(System.nanoTime() < deadline, () -> "no QMP monitor within 60 s: " + stderr());
            sleep(20);
        }
    }

    /**
     * SIGKILL. {@link Process#destroyForcibly()} sends SIGKILL on Linux; the exit status proves it
     * (a process killed by signal 9 reports 128 + 9).
     */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "qmpd did not die after SIGKILL");
        assertEquals(128 + 9, process.exitValue(), "qmpd ended by SIGKILL");
    }

    /** Waits for a clean exit (after quit or SIGTERM) and returns the status. */
    int awaitExit() throws InterruptedException {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "qmpd did not exit");
        return process.exitValue();
    }

    /** SIGTERM, then the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        return awaitExit();
    }

    /** Open file descriptors, each named by its link target ({@code socket:[123]} etc.). */
    List<String> fds() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
            for (Path fd : (Iterable<Path>) s::iterator) {
                try {
                    out.add(Files.readSymbolicLink(fd).toString());
                } catch (IOException e) {
                    // closed between list and readlink
                }
            }
        }
        return out;
    }

    /** Threads by name ({@code /proc/PID/task/TID/comm}, 15 characters at most) and count. */
    Map<String, Integer> threads() throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid() + "/task"))) {
            for (Path t : (Iterable<Path>) s::iterator) {
                try {
                    out.merge(Files.readString(t.resolve("comm")).strip(), 1, Integer::sum);
                } catch (IOException e) {
                    // the thread ended between list and read
                }
            }
        }
        return out;
    }

    /** Resident set size in KiB. */
    long rssKb() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("\\D", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/" + pid() + "/status");
    }

    /**
     * Java heap in use right after a full GC, in KiB: {@code jcmd PID GC.run} then the sum of the
     * generations' "used" in {@code GC.heap_info} (the serial collector's layout).
     */
    long heapUsedAfterGcKb() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        long used = 0;
        int found = 0;
        for (String l : info.split("\n")) {
            Matcher m = USED.matcher(l);
            if (m.find()) {
                used += Long.parseLong(m.group(1));
                found++;
            }
        }
        assertTrue(found > 0, "heap info: " + info);
        return used;
    }

    private String jcmd(String what) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(JAVA_HOME.resolve("bin/jcmd").toString(), String.valueOf(pid()), what)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jcmd " + what);
        assertEquals(0, p.exitValue(), "jcmd " + what + ": " + out);
        return out;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Kills the process if a test left it running. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
