package qmpd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * qemu-storage-daemon's {@code --daemonize}: the process the user started waits until the daemon
 * has applied every option, passes on what it printed, and exits with 0 once it is ready (1 if
 * it failed). A JVM cannot fork, so the daemon is the same command run again as a child in a
 * session of its own (setsid), told by {@link #CHILD_ENV}; it reports readiness on its stdout
 * and then drops stdout and stderr, as QEMU redirects them to /dev/null.
 */
final class Daemonize {
    static final String CHILD_ENV = "QMPD_DAEMONIZED";
    private static final String READY = "qmpd-ready";

    private Daemonize() {
    }

    /** Whether this process is the daemon started by a {@code --daemonize} parent. */
    static boolean isChild() {
        return "1".equals(System.getenv(CHILD_ENV));
    }

    /** The parent's side: start the child, relay its start-up messages, exit with its verdict. */
    static int runParent() throws IOException, InterruptedException {
        // The exact argv, NUL-separated (ProcessHandle.Info drops arguments of long command lines).
        byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/self/cmdline"));
        List<String> cmd = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                cmd.add(new String(raw, from, i - from, StandardCharsets.UTF_8));
                from = i + 1;
            }
        }
        if (cmd.isEmpty()) {
            throw new IOException("cannot read this process's command line");
        }
        // argv[0] may be a bare "java" resolved through PATH; the running JVM's binary is certain.
        ProcessHandle.current().info().command().ifPresent(c -> cmd.set(0, c));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put(CHILD_ENV, "1");
        Process child = pb.start();
        // The child's stderr goes straight to ours until it drops it; its stdout carries the verdict.
        InputStream out = child.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = out.read()) >= 0) {
            if (c == '\n') {
                if (line.toString().equals(READY)) {
                    return 0;
                }
                System.out.println(line);
                line.setLength(0);
            } else {
                line.append((char) c);
            }
        }
        child.waitFor();
        return child.exitValue() == 0 ? 1 : child.exitValue();
    }

    /** The child's side, first thing: a session of its own, so the terminal's hangup does not reach it. */
    static void detach() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle setsid = linker.downcallHandle(linker.defaultLookup().find("setsid").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            int ignored = (int) setsid.invokeExact();
        } catch (Throwable t) {
            // Already a session leader, or no setsid: the daemon still runs, only less detached.
        }
    }

    /** The child's side, once started: tell the parent, then drop stdout and stderr. */
    static void ready() {
        System.out.println(READY);
        System.out.flush();
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        System.setOut(nowhere);
        System.setErr(nowhere);
    }
}
