package qmpd.config.schema;

/**
 * The options of an {@code iothread} object, for {@code --object iothread,id=...} and QMP
 * {@code object-add} alike (QEMU qapi/qom.json {@code IothreadProperties}). All members are
 * optional; defaults come from {@link #withDefaults()}.
 */
public record IothreadProperties(
        @OptionalMember Long aioMaxBatch,
        @OptionalMember Long threadPoolMin,
        @OptionalMember Long threadPoolMax,
        @OptionalMember Long pollMaxNs,
        @OptionalMember Long pollGrow,
        @OptionalMember Long pollShrink) implements EventLoopProperties {

    /** QEMU's default busy-poll budget (iothread.c: 32 us, measured on NVMe in 2016). */
    public static final long POLL_MAX_NS_DEFAULT = 32768;

    /** Every member set: absent ones take QEMU's defaults. */
    public IothreadProperties withDefaults() {
        return new IothreadProperties(
                aioMaxBatch == null ? 0L : aioMaxBatch,
                threadPoolMin == null ? 0L : threadPoolMin,
                threadPoolMax == null ? THREAD_POOL_MAX_DEFAULT : threadPoolMax,
                pollMaxNs == null ? POLL_MAX_NS_DEFAULT : pollMaxNs,
                pollGrow == null ? 0L : pollGrow,
                pollShrink == null ? 0L : pollShrink);
    }

    /** An iothread with every default. */
    public static IothreadProperties defaults() {
        return new IothreadProperties(null, null, null, null, null, null).withDefaults();
    }
}
