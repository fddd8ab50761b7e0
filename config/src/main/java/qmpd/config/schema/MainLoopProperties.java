package qmpd.config.schema;

/** The options of the single {@code main-loop} object (QEMU qapi/qom.json {@code MainLoopProperties}). */
public record MainLoopProperties(
        @OptionalMember Long aioMaxBatch,
        @OptionalMember Long threadPoolMin,
        @OptionalMember Long threadPoolMax) implements EventLoopProperties {

    /** Every member set: absent ones take QEMU's defaults. */
    public MainLoopProperties withDefaults() {
        return new MainLoopProperties(
                aioMaxBatch == null ? 0L : aioMaxBatch,
                threadPoolMin == null ? 0L : threadPoolMin,
                threadPoolMax == null ? THREAD_POOL_MAX_DEFAULT : threadPoolMax);
    }
}
