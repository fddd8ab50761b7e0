package qmpd.config.schema.block;

/** Range checks shared by the two null drivers. */
final class NullOptions {
    private NullOptions() {
    }

    static void check(long size, long latencyNs) {
        // QEMU 7.2 accepts a negative size and aborts later (qemu-storage-daemon dies on
        // null-co size=-1); the error it meant to give is a plain parameter error.
        if (size < 0) {
            throw new IllegalArgumentException("size must be a non-negative number of bytes");
        }
        if (latencyNs < 0) {
            throw new IllegalArgumentException("latency-ns cannot be negative");
        }
    }
}
