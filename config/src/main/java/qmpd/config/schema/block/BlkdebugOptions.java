package qmpd.config.schema.block;

import java.util.List;

/**
 * The rule types of QEMU's {@code blkdebug} driver (qapi/block-core.json BlkdebugInjectErrorOptions,
 * BlkdebugSetStateOptions) and the names of the debug events and I/O types they refer to.
 */
public final class BlkdebugOptions {
    private BlkdebugOptions() {
    }

    /** QEMU 7.2's BlkdebugEvent, in QAPI order. */
    public static final List<String> EVENTS = List.of(
            "l1_update", "l1_grow_alloc_table", "l1_grow_write_table", "l1_grow_activate_table",
            "l2_load", "l2_update", "l2_update_compressed", "l2_alloc_cow_read", "l2_alloc_write",
            "read_aio", "read_backing_aio", "read_compressed", "write_aio", "write_compressed",
            "vmstate_load", "vmstate_save", "cow_read", "cow_write", "reftable_load", "reftable_grow",
            "reftable_update", "refblock_load", "refblock_update", "refblock_update_part",
            "refblock_alloc", "refblock_alloc_hookup", "refblock_alloc_write",
            "refblock_alloc_write_blocks", "refblock_alloc_write_table", "refblock_alloc_switch_table",
            "cluster_alloc", "cluster_alloc_bytes", "cluster_free", "flush_to_os", "flush_to_disk",
            "pwritev_rmw_head", "pwritev_rmw_after_head", "pwritev_rmw_tail", "pwritev_rmw_after_tail",
            "pwritev", "pwritev_zero", "pwritev_done", "empty_image_prepare", "l1_shrink_write_table",
            "l1_shrink_free_l2_clusters", "cor_write", "cluster_alloc_space", "none");

    /** QEMU's BlkdebugIOType: the kinds of request a rule can fail. */
    public enum IoType {
        READ("read"), WRITE("write"), WRITE_ZEROES("write-zeroes"), DISCARD("discard"), FLUSH("flush"),
        BLOCK_STATUS("block-status");

        private final String qapiName;

        IoType(String qapiName) {
            this.qapiName = qapiName;
        }

        public String qapiName() {
            return qapiName;
        }

        public static List<String> qapiNames() {
            return java.util.Arrays.stream(values()).map(IoType::qapiName).toList();
        }

        public static IoType of(String qapiName) {
            for (IoType t : values()) {
                if (t.qapiName.equals(qapiName)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("invalid parameter value: " + qapiName);
        }
    }

    /**
     * One {@code inject-error} rule. When {@code event} fires in state {@code state} (0: any), the
     * rule becomes active; an active rule fails the next requests of {@code iotype} (null: read,
     * write, write-zeroes, discard and flush, QEMU's default) that cover 512-byte sector
     * {@code sector} (-1: any) with {@code errno} (0 or negative: no error). {@code once} removes the
     * rule when it fires; {@code immediately} completes the failed request before submit returns
     * instead of in a later loop iteration. {@code delayNs} is qmpd's extension ({@code x-delay-ns}):
     * a matching request waits that long before it fails, or before it goes on to the image when
     * {@code errno} is 0.
     */
    public record InjectError(String event, long state, IoType iotype, int errno, long sector, boolean once,
                              boolean immediately, long delayNs) {
        public InjectError {
            if (!EVENTS.contains(event)) {
                throw new IllegalArgumentException("Invalid event name \"" + event + "\"");
            }
            if (delayNs < 0) {
                throw new IllegalArgumentException("x-delay-ns cannot be negative");
            }
        }

        /** QEMU's defaults: EIO on any sector, every time. */
        public static InjectError of(String event) {
            return new InjectError(event, 0, null, 5, -1, false, false, 0);
        }
    }

    /** One {@code set-state} rule: when {@code event} fires in state {@code state} (0: any), the state becomes {@code newState}. */
    public record SetState(String event, long state, long newState) {
        public SetState {
            if (!EVENTS.contains(event)) {
                throw new IllegalArgumentException("Invalid event name \"" + event + "\"");
            }
        }
    }
}
