package qmpd.block.export.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers recycled by size class (powers of two from 4 KiB to 32 MiB), so a steady stream
 * of requests allocates nothing. Not thread-safe: one connection's home thread owns it.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;
    /**
     * Bytes kept per class; more are left to the garbage collector. A class keeps at least
     * {@link NbdConnection#MAX_IN_FLIGHT} buffers up to 256 KiB, so a full queue of small requests
     * never allocates (with 16 kept, half the reads at queue depth 32 paid a fresh, zeroed,
     * Cleaner-tracked direct buffer), and at least two of the largest.
     */
    private static final long KEEP_BYTES = 32L << 20;

    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] free = new ArrayDeque[MAX_SHIFT - MIN_SHIFT + 1];

    BufferPool() {
        for (int i = 0; i < free.length; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    private static int classOf(int length) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(length, 1) - 1);
        return Math.max(shift, MIN_SHIFT) - MIN_SHIFT;
    }

    private static int keep(int c) {
        return (int) Math.max(2, Math.min(NbdConnection.MAX_IN_FLIGHT, KEEP_BYTES >> (c + MIN_SHIFT)));
    }

    /** A buffer with position 0 and limit {@code length}; contents undefined. */
    ByteBuffer take(int length) {
        int c = classOf(length);
        ByteBuffer b = free[c].poll();
        if (b == null) {
            b = ByteBuffer.allocateDirect(1 << (c + MIN_SHIFT));
        }
        return b.clear().limit(length);
    }

    /** Returns a buffer obtained from {@link #take}; the caller keeps no reference. */
    void give(ByteBuffer b) {
        int c = classOf(b.capacity());
        if ((1 << (c + MIN_SHIFT)) == b.capacity() && free[c].size() < keep(c)) {
            free[c].push(b);
        }
    }
}
