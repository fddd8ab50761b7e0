package qmpd.config.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Reads structured choices out of a fuzzer's byte array, front to back, the way Jazzer's
 * FuzzedDataProvider does: a coverage-guided fuzzer mutating the bytes steers every choice, and
 * a random byte array gives a random structured input. Past the end every read returns zero
 * (the first choice, the empty string), so any array, even an empty one, is a valid input.
 *
 * <p>Not thread-safe: one per input.
 */
public final class FuzzInput {
    private final byte[] data;
    private int pos;

    public FuzzInput(byte[] data) {
        this.data = data;
    }

    public boolean exhausted() {
        return pos >= data.length;
    }

    public int remaining() {
        return Math.max(0, data.length - pos);
    }

    public int nextByte() {
        return pos < data.length ? data[pos++] & 0xff : 0;
    }

    public boolean nextBoolean() {
        return (nextByte() & 1) != 0;
    }

    /** A value in [0, bound); bound at most 2^16. */
    public int nextInt(int bound) {
        if (bound <= 1) {
            return 0;
        }
        int v = bound <= 256 ? nextByte() : (nextByte() << 8) | nextByte();
        return v % bound;
    }

    public long nextLong() {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | nextByte();
        }
        return v;
    }

    public <T> T pick(List<T> choices) {
        return choices.get(nextInt(choices.size()));
    }

    /** Up to {@code max} raw bytes, length chosen by the input. */
    public byte[] nextBytes(int max) {
        int n = Math.min(nextInt(max + 1), remaining());
        byte[] out = new byte[n];
        System.arraycopy(data, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** Up to {@code max} bytes, decoded leniently as UTF-8 (bad sequences become U+FFFD). */
    public String nextString(int max) {
        return new String(nextBytes(max), StandardCharsets.UTF_8);
    }

    /** Everything not read yet. */
    public byte[] rest() {
        byte[] out = new byte[remaining()];
        System.arraycopy(data, Math.min(pos, data.length), out, 0, out.length);
        pos = data.length;
        return out;
    }
}
