package qmpd.aio;

/**
 * Adaptive polling parameters of one AioContext (QEMU's iothread properties).
 *
 * @param pollMaxNs   {@code poll-max-ns}: the longest busy-poll window in ns; 0 disables busy polling
 * @param pollGrow    {@code poll-grow}: factor the window grows by; 0 means QEMU's default of 2
 * @param pollShrink  {@code poll-shrink}: divisor the window shrinks by; 0 means QEMU's default,
 *                    which resets the window to 0 at once (util/aio-posix.c adjust_polling_time)
 * @param aioMaxBatch {@code aio-max-batch}: the most requests a driver may batch per submission;
 *                    0 lets the driver choose. The loop only carries it for drivers to read.
 */
public record PollParams(long pollMaxNs, long pollGrow, long pollShrink, long aioMaxBatch) {
    /**
     * IOThread default (QEMU iothread.c IOTHREAD_POLL_MAX_NS_DEFAULT): 32 µs, which the 2016
     * NVMe measurements behind that constant found enough to catch most completions.
     */
    public static final long IOTHREAD_POLL_MAX_NS_DEFAULT = 32768;

    /** A context that never busy-polls (QEMU's aio_context_new default, used by the main loop). */
    public static final PollParams NO_POLLING = new PollParams(0, 0, 0, 0);

    /** An IOThread's defaults. */
    public static final PollParams IOTHREAD_DEFAULT = new PollParams(IOTHREAD_POLL_MAX_NS_DEFAULT, 0, 0, 0);

    public PollParams {
        if (pollMaxNs < 0) throw new IllegalArgumentException("poll-max-ns must not be negative");
        if (pollGrow < 0) throw new IllegalArgumentException("poll-grow must not be negative");
        if (pollShrink < 0) throw new IllegalArgumentException("poll-shrink must not be negative");
        if (aioMaxBatch < 0) throw new IllegalArgumentException("aio-max-batch must not be negative");
    }

    /** A copy with another poll-max-ns. */
    public PollParams withPollMaxNs(long ns) {
        return new PollParams(ns, pollGrow, pollShrink, aioMaxBatch);
    }
}
