package qmpd.config.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The bounded random run every build does for a fuzz target: first every input of the target's
 * corpus (the regressions), then {@code tries} inputs, each either
 * fresh random bytes or a mutation of an input from the target's corpus (the directory Jazzer
 * replays, {@code <package>/<Class>Inputs/<method>/} on the test class path), plus a few
 * dictionary words spliced in. Jazzer's coverage-guided mode ({@code JAZZER_FUZZ=1}) explores
 * far deeper; this run only keeps each build from being blind to new regressions.
 *
 * <p>The seed is random per run and printed; {@code -Dqmpd.fuzz.seed=N} repeats a run and
 * {@code -Dqmpd.fuzz.scale=K} multiplies every target's tries. A failing input is written to
 * {@code target/fuzz-findings/} and named in the failure, ready to be copied into the corpus.
 */
public final class FuzzRuns {
    /** What a target is: it throws (or fails an assertion) on a finding. */
    @FunctionalInterface
    public interface Target {
        void run(byte[] input) throws Exception;
    }

    /** The outcome of one run, for the figures in docs/reliability.md. */
    public record Stats(String name, long seed, int tries, int corpusSize) {
    }

    private FuzzRuns() {
    }

    /**
     * Runs {@code target} on {@code tries} inputs of at most {@code maxLen} bytes.
     *
     * @param owner  the test class, whose {@code <Class>Inputs/<method>/} holds the corpus
     * @param method the fuzz test method name (the corpus directory)
     * @param dictionary tokens worth splicing into inputs (keywords, magic numbers)
     */
    public static Stats run(Class<?> owner, String method, int tries, int maxLen, List<byte[]> dictionary,
            Target target) {
        long seed = Long.getLong("qmpd.fuzz.seed", new Random().nextLong());
        int n = (int) Math.max(1, tries * Double.parseDouble(System.getProperty("qmpd.fuzz.scale", "1")));
        List<byte[]> corpus = corpus(owner, method);
        Random rnd = new Random(seed);
        String name = owner.getSimpleName() + "." + method;
        for (byte[] c : corpus) {
            attempt(name, seed, -1, c, target);
        }
        for (int i = 0; i < n; i++) {
            byte[] input = corpus.isEmpty() || rnd.nextInt(4) == 0
                    ? fresh(rnd, maxLen, dictionary)
                    : mutate(rnd, corpus.get(rnd.nextInt(corpus.size())), maxLen, dictionary);
            attempt(name, seed, i, input, target);
        }
        Stats s = new Stats(name, seed, n + corpus.size(), corpus.size());
        System.out.println("fuzz " + name + ": " + s.tries() + " inputs (" + corpus.size()
                + " from the corpus), seed " + seed + ", no finding");
        return s;
    }

    /** Encodes strings as dictionary entries. */
    public static List<byte[]> words(String... words) {
        return Stream.of(words).map(w -> w.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static void attempt(String name, long seed, int index, byte[] input, Target target) {
        try {
            target.run(input);
        } catch (Throwable t) {
            Path saved = save(name, seed, index, input);
            throw new AssertionError("fuzz " + name + " finding (seed " + seed + ", input #" + index
                    + ", saved as " + saved + "): " + t, t);
        }
    }

    private static Path save(String name, long seed, int index, byte[] input) {
        try {
            Path dir = Path.of("target", "fuzz-findings");
            Files.createDirectories(dir);
            Path f = dir.resolve(name + "-" + seed + "-" + index);
            Files.write(f, input);
            return f.toAbsolutePath();
        } catch (IOException e) {
            return null;
        }
    }

    /** The corpus files, in name order so a run is repeatable. */
    public static List<byte[]> corpus(Class<?> owner, String method) {
        String dir = owner.getSimpleName() + "Inputs/" + method;
        URL url = owner.getResource(dir);
        List<byte[]> out = new ArrayList<>();
        if (url == null) {
            return out;
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    out.add(in.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static byte[] fresh(Random rnd, int maxLen, List<byte[]> dictionary) {
        byte[] b = new byte[rnd.nextInt(Math.max(1, maxLen / 4) + 1)];
        rnd.nextBytes(b);
        return dictionary.isEmpty() ? b : mutate(rnd, b, maxLen, dictionary);
    }

    /** One to four of libFuzzer's simplest mutations. */
    private static byte[] mutate(Random rnd, byte[] in, int maxLen, List<byte[]> dictionary) {
        byte[] b = in.clone();
        int rounds = 1 + rnd.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            switch (rnd.nextInt(7)) {
                case 0 -> {
                    if (b.length > 0) {
                        b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> {
                    if (b.length > 0) {
                        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                    }
                }
                case 2 -> {
                    if (b.length > 0) {
                        int from = rnd.nextInt(b.length);
                        int len = rnd.nextInt(b.length - from + 1);
                        b = cut(b, from, len);
                    }
                }
                case 3 -> {
                    byte[] ins = new byte[1 + rnd.nextInt(8)];
                    rnd.nextBytes(ins);
                    b = insert(b, rnd.nextInt(b.length + 1), ins);
                }
                case 4 -> {
                    if (b.length > 0) {
                        int from = rnd.nextInt(b.length);
                        int len = 1 + rnd.nextInt(b.length - from);
                        byte[] chunk = java.util.Arrays.copyOfRange(b, from, from + len);
                        b = insert(b, rnd.nextInt(b.length + 1), chunk);
                    }
                }
                case 5 -> {
                    if (b.length > 0) {
                        b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                    }
                }
                default -> {
                    if (!dictionary.isEmpty()) {
                        b = insert(b, rnd.nextInt(b.length + 1), dictionary.get(rnd.nextInt(dictionary.size())));
                    }
                }
            }
        }
        return b.length > maxLen ? java.util.Arrays.copyOf(b, maxLen) : b;
    }

    private static byte[] cut(byte[] b, int from, int len) {
        byte[] out = new byte[b.length - len];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(b, from + len, out, from, b.length - from - len);
        return out;
    }

    private static byte[] insert(byte[] b, int at, byte[] ins) {
        byte[] out = new byte[b.length + ins.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(ins, 0, out, at, ins.length);
        System.arraycopy(b, at, out, at + ins.length, b.length - at);
        return out;
    }
}
