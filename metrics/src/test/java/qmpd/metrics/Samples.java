package qmpd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Reading a text scrape and checking it with the real {@code promtool}. */
public final class Samples {
    private Samples() {
    }

    /** Values of the samples named {@code name} whose label set contains every {@code label="value"}. */
    public static List<Double> values(String scrape, String name, String... labels) {
        List<Double> out = new ArrayList<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            boolean all = true;
            for (String l : labels) {
                all &= line.contains(l.replaceFirst("=(.*)", "=\"$1\""));
            }
            if (all) {
                String[] parts = line.split(" ");
                out.add(Double.parseDouble(parts[parts.length - 1]));
            }
        }
        return out;
    }

    /** The one sample matching; fails unless exactly one does. */
    public static double value(String scrape, String name, String... labels) {
        List<Double> v = values(scrape, name, labels);
        assertEquals(1, v.size(), () -> name + " " + List.of(labels) + " in:\n" + scrape);
        return v.get(0);
    }

    /** Runs {@code promtool check metrics} on the scrape; returns its combined output and exit code. */
    public static String promtool(String scrape) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(scrape.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("promtool did not finish within 30 s");
        }
        return "exit=" + p.exitValue() + (out.size() > 0 ? "\n" + out : "");
    }
}
