package qmpd.block;

/** The operations of the asynchronous request API (QEMU's bdrv_co_* I/O functions). */
public enum BlockOp {
    READ,
    WRITE,
    FLUSH,
    WRITE_ZEROES,
    DISCARD,
    /** Allocation status of a range: fills {@link BlockRequest#statusLength} and flags. */
    BLOCK_STATUS;

    /** Whether the operation changes data and so needs the write permission. */
    public boolean writes() {
        return this == WRITE || this == WRITE_ZEROES || this == DISCARD;
    }

    /** Whether the operation carries an offset and length that must lie inside the node. */
    public boolean ranged() {
        return this != FLUSH;
    }
}
