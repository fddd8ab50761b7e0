package qmpd.config.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import qmpd.config.fuzz.FuzzInput;
import qmpd.config.fuzz.FuzzRuns;
import qmpd.config.keyval.KeyvalException;
import qmpd.config.keyval.KeyvalParser;

/**
 * Fuzzes the command line, the keyval parser and the config file reader: whatever the input,
 * the result is a parse or a {@link CliException} / {@link KeyvalException} with a message, never
 * another exception, a stack overflow or a hang (the timeouts bound each run).
 *
 * <p>How every fuzz test class here is run (docs/reliability.md): each {@code @FuzzTest} is a target
 * that Jazzer fuzzes coverage-guided when {@code JAZZER_FUZZ=1} is set (one target per JVM); every
 * build runs the {@code ...RandomRun} tests instead, which replay the target's corpus
 * ({@code <Class>Inputs/<method>/}, Jazzer's layout) and then feed it a bounded number of random
 * and mutated inputs ({@link FuzzRuns}). Jazzer's own agent stays out of ordinary builds: it
 * costs tens of seconds per test JVM and the corpus is replayed anyway.
 */
class CommandLineFuzzTest {
    private static final List<String> OPTIONS = List.of("--blockdev", "--object", "--export", "--nbd-server",
            "--monitor", "--chardev", "--http", "--trace", "--pidfile", "--state-file", "--daemonize", "-T", "-h",
            "-V", "--", "--b", "--e", "--help", "--version", "--m");
    private static final List<byte[]> DICTIONARY = FuzzRuns.words("driver=", "node-name=", "file", "null-co",
            "raw", "filename=", "iothread", "id=", ",", ",,", ".", "=", "0.", "1.", "help", "?", "{", "}", "[", "]",
            "\"", "'", ":", "type=", "nbd", "unix", "inet", "addr.", "path=", "host=", "port=", "socket",
            "chardev=", "size=", "1k", "18446744073709551616", "-1", "0x", "on", "off", "true", "\\u0000",
            "\\ud800", "max-connections=", "export", "writable=on", "auto-read-only");

    /** One argument vector built from the input: option names, keyval strings and raw bytes. */
    static String[] argv(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        List<String> argv = new ArrayList<>();
        while (!in.exhausted() && argv.size() < 16) {
            switch (in.nextInt(4)) {
                case 0 -> argv.add(in.pick(OPTIONS));
                case 1 -> argv.add(in.pick(OPTIONS) + "=" + in.nextString(200));
                default -> argv.add(in.nextString(300));
            }
        }
        // --config reads a file: a fuzzed path could name a FIFO or a device and block forever.
        return argv.stream().map(a -> a.startsWith("--co") ? "--object" + a.substring(4) : a).toArray(String[]::new);
    }

    @FuzzTest(maxDuration = "30s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void commandLine(byte[] data) {
        try {
            assertNotNull(CommandLine.parse(argv(data)));
        } catch (CliException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "an error with a message");
        }
    }

    @FuzzTest(maxDuration = "30s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void keyval(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        String implied = switch (in.nextInt(3)) {
            case 0 -> null;
            case 1 -> "driver";
            default -> "eins.zwei";
        };
        boolean helpAllowed = in.nextBoolean();
        try {
            assertNotNull(KeyvalParser.parse(new String(in.rest(), java.nio.charset.StandardCharsets.UTF_8),
                    implied, helpAllowed).tree());
        } catch (KeyvalException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "an error with a message");
        }
    }

    @FuzzTest(maxDuration = "30s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void configFile(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        boolean yaml = in.nextBoolean();
        try {
            assertNotNull(ConfigFile.parse(new String(in.rest(), java.nio.charset.StandardCharsets.UTF_8),
                    yaml ? "fuzz.yaml" : "fuzz.json", yaml));
        } catch (CliException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "an error with a message");
        }
    }

    @Test
    @Timeout(60)
    void commandLineRandomRun() {
        FuzzRuns.run(getClass(), "commandLine", 30_000, 512, DICTIONARY, this::commandLine);
    }

    @Test
    @Timeout(60)
    void keyvalRandomRun() {
        FuzzRuns.run(getClass(), "keyval", 50_000, 512, DICTIONARY, this::keyval);
    }

    @Test
    @Timeout(60)
    void configFileRandomRun() {
        FuzzRuns.run(getClass(), "configFile", 8_000, 1024, FuzzRuns.words("{", "}", "[", "]", "\"", ":", ",",
                "blockdev", "object", "nbd-server", "export", "monitor", "chardev", "driver", "- ", "  ", "\n",
                "&a", "*a", "!!", "---", "qom-type", "iothread", "id"), this::configFile);
    }
}
