package qmpd.block;

/**
 * The debug events the block layer emits (QEMU's BlkdebugEvent values, BLKDBG_EVENT): only a
 * driver that takes them (blkdebug) reacts. qmpd emits the ones its drivers pass through:
 * raw emits {@code read_aio} and {@code write_aio} before it forwards a read or a write to its
 * file child, and {@code flush_to_os} then {@code flush_to_disk} before a flush.
 */
public final class DebugEvents {
    public static final String READ_AIO = "read_aio";
    public static final String WRITE_AIO = "write_aio";
    public static final String FLUSH_TO_OS = "flush_to_os";
    public static final String FLUSH_TO_DISK = "flush_to_disk";

    private DebugEvents() {
    }
}
