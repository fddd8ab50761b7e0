package qmpd.config.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever the arguments, parsing either succeeds or throws {@link CliException}: never
 * another exception, never a stack overflow, never a long stall.
 */
class MalformedInputTest {
    private static final String[] OPTIONS = {"--blockdev", "--object", "--export", "--nbd-server", "--monitor",
        "--chardev", "--http", "--trace", "--pidfile", "--state-file"};

    /** Parses, and returns the error message or null; fails on anything but a CliException. */
    private static String outcome(String... argv) {
        try {
            CommandLine.parse(argv);
            return null;
        } catch (CliException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
            return e.getMessage();
        } catch (Throwable t) {
            fail("argv " + List.of(argv).toString().substring(0, Math.min(300, List.of(argv).toString().length()))
                    + " threw " + t, t);
            return null;
        }
    }

    private static void everyOption(String arg) {
        for (String o : OPTIONS) {
            outcome(o, arg);
            if (arg.length() < 1000) {
                outcome(o + "=" + arg);
            }
        }
    }

    @Test
    void emptyAndLoneSeparators() {
        for (String s : new String[] {"", ",", ",,", ",,,", "=", "==", ".", "..", "=,", ",=", "{", "}", "{}", "[]",
            "\"", "'", "?", "help", "help,help", "\u0000", "a=\u0000", "{\u0000}", " ", "\t", "\n"}) {
            everyOption(s);
        }
        outcome("");
        outcome("--");
        outcome("-");
        outcome("--=");
        outcome("--=x");
        outcome("-T");
    }

    @Test
    void hugeInputs() {
        String big = "x".repeat(1 << 18);
        everyOption("driver=null-co,node-name=" + big);
        everyOption(",".repeat(50_000));
        everyOption("a=" + ",,".repeat(50_000));
        everyOption("driver=null-co,node-name=n,size=" + "9".repeat(50_000));
        everyOption("driver=null-co,node-name=n,size=" + "0".repeat(50_000) + "1");
        assertEquals(1, ((CommandLine.Run) CommandLine.parse("--blockdev",
                "driver=null-co,node-name=n,size=" + "0".repeat(10_000) + "1")).options().size());
        everyOption("{\"driver\":\"null-co\",\"node-name\":\"" + big + "\"}");
        everyOption("{\"driver\":\"null-co\",\"size\":" + "9".repeat(5_000) + "}");
        List<String> argv = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            argv.add("--object");
            argv.add("iothread,id=io" + i);
        }
        assertEquals(10_000, ((CommandLine.Run) CommandLine.parse(argv.toArray(String[]::new))).options().size());
    }

    @Test
    void deepNesting() {
        // Deep enough to overflow the stack of any recursive walk.
        everyOption("a.".repeat(20_000) + "b=1");
        everyOption("driver=raw,node-name=r," + "file.".repeat(5_000) + "driver=raw");
        everyOption("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000));
        everyOption("[".repeat(20_000));
        everyOption("{\"driver\":\"raw\",\"node-name\":\"r\",\"file\":".repeat(900) + "\"x\"" + "}".repeat(900));
        everyOption("l." + "0.".repeat(20_000) + "x=1");
        // raw's file is a BlockdevOptions: a chain of raw nodes recurses until the depth limit.
        StringBuilder chain = new StringBuilder("driver=raw,node-name=r");
        for (int i = 1; i <= 300; i++) {
            chain.append(",").append("file.".repeat(i)).append("driver=raw");
        }
        String msg = outcome("--blockdev", chain.toString());
        assertTrue(msg.endsWith("is nested too deeply"), msg.substring(msg.length() - 100));
        assertTrue(outcome("--blockdev", "{\"a\":".repeat(2_000) + "1" + "}".repeat(2_000))
                .endsWith(": JSON parse error, too many nested containers"));
    }

    @Test
    void unicode() {
        everyOption("driver=null-co,node-name=\u00e9t\u00e9");
        everyOption("\u00e9=1");
        everyOption("driver=null-co,n\u00f6de=1");
        everyOption("\ud83d\ude00,id=x");
        everyOption("\ud800");                 // a lone surrogate
        everyOption("{\"driver\":\"\ud83d\ude00\"}");
        everyOption("{\"\u00e9\":1}");
        assertEquals("--blockdev \u00e9=1: Invalid parameter '\u00e9'", outcome("--blockdev", "\u00e9=1"));
        outcome("--\u00e9");
        outcome("-\u00e9");
    }

    @Test
    void randomStrings() {
        String[] atoms = {",", ",,", "=", ".", "0", "1", "01", "-1", "0x", "a", "id", "driver", "null-co", "raw", "file",
            "iothread", "nbd", "type", "addr", "inet", "unix", "socket", "path", "server", "on", "off", "help", "?",
            "{", "}", "[", "]", "\"", "'", ":", " ", "\u00e9", "\ud83d\ude00", "size", "1k", "1.5G", "node-name",
            "qom-type", "chardev", "bitmaps", "cache", "direct", "\\", "\u0000", "e", "E", "99999999999999999999999"};
        Random r = new Random(20261123);
        for (int i = 0; i < 2_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(16);
            for (int j = 0; j < n; j++) {
                sb.append(atoms[r.nextInt(atoms.length)]);
            }
            String s = sb.toString();
            String o = OPTIONS[r.nextInt(OPTIONS.length)];
            outcome(o, s);
            if (r.nextInt(4) == 0) {
                outcome("{" + s);
                outcome(o, "{\"" + s + "\":" + s + "}");
            }
        }
    }

    @Test
    void randomArgv() {
        String[] words = {"--blockdev", "--blockd", "--b", "--h", "--he", "--http", "-h", "-V", "-T", "-Tx", "-hT",
            "--", "-", "x", "", "--object", "iothread,id=a", "--chardev", "--config", "/nonexistent", "--daemonize",
            "--daemonize=1", "--pidfile", "--state-file", "--trace", "-x", "--foo=bar", "driver=null-co,node-name=n"};
        Random r = new Random(42);
        for (int i = 0; i < 2_000; i++) {
            String[] argv = new String[r.nextInt(6)];
            for (int j = 0; j < argv.length; j++) {
                argv[j] = words[r.nextInt(words.length)];
            }
            outcome(argv);
        }
    }
}
