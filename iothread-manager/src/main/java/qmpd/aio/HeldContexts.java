package qmpd.aio;

import java.util.Arrays;

/**
 * The contexts one thread has explicitly {@link AioContext#acquire acquired}, with nesting counts.
 * Thread-confined (one instance per thread); acquire is the rare path, so a small array is enough.
 */
final class HeldContexts {
    static final ThreadLocal<HeldContexts> OF_THREAD = ThreadLocal.withInitial(HeldContexts::new);

    private AioContext[] contexts = new AioContext[2];
    private int[] counts = new int[2];
    private int size;

    int count(AioContext ctx) {
        int i = indexOf(ctx);
        return i < 0 ? 0 : counts[i];
    }

    void inc(AioContext ctx) {
        int i = indexOf(ctx);
        if (i >= 0) {
            counts[i]++;
            return;
        }
        if (size == contexts.length) {
            contexts = Arrays.copyOf(contexts, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        contexts[size] = ctx;
        counts[size++] = 1;
    }

    /** Drops one level; false if the thread held none. */
    boolean dec(AioContext ctx) {
        int i = indexOf(ctx);
        if (i < 0) return false;
        if (--counts[i] == 0) {
            size--;
            contexts[i] = contexts[size];
            counts[i] = counts[size];
            contexts[size] = null;
        }
        return true;
    }

    /** Some context other than {@code ctx} held, or null. */
    AioContext anyOtherThan(AioContext ctx) {
        for (int i = 0; i < size; i++) {
            if (contexts[i] != ctx) return contexts[i];
        }
        return null;
    }

    private int indexOf(AioContext ctx) {
        for (int i = 0; i < size; i++) {
            if (contexts[i] == ctx) return i;
        }
        return -1;
    }
}
