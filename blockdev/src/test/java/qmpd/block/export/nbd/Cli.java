package qmpd.block.export.nbd;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real client binary with a deadline and collects what it printed. */
final class Cli {
    private Cli() {
    }

    record Result(int exit, String out, String err, List<String> command) {
        Result ok() {
            if (exit != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + exit + "\nstdout:\n" + out
                        + "\nstderr:\n" + err);
            }
            return this;
        }
    }

    /** Skips the test (with the reason) when {@code binary} is not on PATH; CI installs them all. */
    static void assumeInstalled(String... binaries) {
        for (String b : binaries) {
            Assumptions.assumeTrue(onPath(b), b + " is not installed (Debian: see .ci/run); skipping");
        }
    }

    static boolean onPath(String binary) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, binary))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code command}; a client that outlives {@code timeoutSeconds} is killed and fails the test. */
    static Result run(int timeoutSeconds, String... command) {
        try {
            Path out = Files.createTempFile("cli", ".out");
            Path err = Files.createTempFile("cli", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                // nbdsh runs "env python3": the distribution's libnbd bindings live in the system
                // interpreter, which a developer's own python3 earlier on PATH would hide.
                pb.environment().put("PATH", "/usr/bin:" + System.getenv().getOrDefault("PATH", ""));
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds
                            + " s\nstdout:\n" + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
                }
                return new Result(p.exitValue(), Files.readString(out), Files.readString(err), List.of(command));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
