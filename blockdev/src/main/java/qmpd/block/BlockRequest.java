package qmpd.block;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One block I/O request, reusable: a user (an export connection) keeps a pool of these and refills
 * one per request, so the I/O path allocates nothing per request (QEMU's BlockAIOCB, flattened).
 *
 * <p>Ownership: between {@link BlockNode#submit} and the call of its {@link BlockCompletion}, the
 * request and its buffer belong to the block layer; the user must not touch either. The buffer's
 * position and limit are not changed by the block layer; data goes to or comes from
 * {@code [position, position + length)}.
 */
public final class BlockRequest {
    /** No special behaviour. */
    public static final int FLAG_NONE = 0;
    /** Force unit access: the write is on stable storage when it completes. */
    public static final int FLAG_FUA = 1;
    /** WRITE_ZEROES may deallocate the range (NBD's absence of NO_HOLE; QEMU's BDRV_REQ_MAY_UNMAP). */
    public static final int FLAG_MAY_UNMAP = 2;
    /** WRITE_ZEROES must fail fast with ENOTSUP rather than write zeroes slowly (NBD FAST_ZERO). */
    public static final int FLAG_NO_FALLBACK = 4;

    /** BLOCK_STATUS result flag: the range reads as zeroes. */
    public static final int STATUS_ZERO = 1;
    /** BLOCK_STATUS result flag: the range is allocated (has data) in this node. */
    public static final int STATUS_DATA = 2;

    private BlockOp op;
    private long offset;
    private int length;
    private ByteBuffer buffer;
    private int flags;
    private BlockCompletion completion;
    private Object attachment;

    // The completions pushed by the layers the request passed through, innermost last.
    private final BlockCompletion[] stack = new BlockCompletion[8];
    private final long[] savedOffsets = new long[8];
    private int depth;

    // When the node accepted the request (System.nanoTime), for latency accounting.
    long startNs;

    // Results, written by the block layer before the completion is called.
    private int result;
    private long statusLength;
    private int statusFlags;

    /** Fills the request for a new operation; clears the previous results. */
    public BlockRequest set(BlockOp op, long offset, int length, ByteBuffer buffer, int flags,
                            BlockCompletion completion) {
        this.op = Objects.requireNonNull(op, "op");
        this.offset = offset;
        this.length = length;
        this.buffer = buffer;
        this.flags = flags;
        this.completion = Objects.requireNonNull(completion, "completion");
        this.result = 0;
        this.statusLength = 0;
        this.statusFlags = 0;
        if (depth != 0) {
            throw new IllegalStateException("request reused while in flight: " + this);
        }
        return this;
    }

    public BlockOp op() {
        return op;
    }

    public long offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /** The data buffer (READ, WRITE), or null. */
    public ByteBuffer buffer() {
        return buffer;
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** A user's own tag (e.g. the NBD handle's slot); the block layer never reads it. */
    public Object attachment() {
        return attachment;
    }

    public BlockRequest attach(Object attachment) {
        this.attachment = attachment;
        return this;
    }

    /** {@code >= 0} on success, {@code -errno} on failure. Valid once completed. */
    public int result() {
        return result;
    }

    public boolean failed() {
        return result < 0;
    }

    /** BLOCK_STATUS: how many bytes from {@code offset} share {@link #statusFlags()}. */
    public long statusLength() {
        return statusLength;
    }

    public int statusFlags() {
        return statusFlags;
    }

    /** Sets the BLOCK_STATUS answer; drivers call it before completing. */
    public void setStatus(long length, int statusFlags) {
        this.statusLength = length;
        this.statusFlags = statusFlags;
    }

    /**
     * Pushes a layer's completion: the next {@link #complete} calls it instead of the one below,
     * together with the offset the layer saw (restored before it is called). A node pushes its
     * accounting, a filter such as raw its window shift; depth is bounded by the graph's depth.
     */
    public void push(BlockCompletion layer) {
        if (depth == stack.length) {
            throw new IllegalStateException("block request nested too deeply: " + this);
        }
        savedOffsets[depth] = offset;
        stack[depth++] = layer;
    }

    /** A filter moves the request inside its child (raw's {@code offset}); restored on completion. */
    public void relocate(long newOffset) {
        this.offset = newOffset;
    }

    /**
     * Records the result and calls the innermost pending completion (the last pushed, or the user's).
     * Drivers call it exactly once per request, in the node's home thread; it may run before
     * {@code submit} returns.
     */
    public void complete(int result) {
        this.result = result;
        if (depth > 0) {
            BlockCompletion layer = stack[--depth];
            stack[depth] = null;
            offset = savedOffsets[depth];
            layer.completed(this);
        } else {
            completion.completed(this);
        }
    }

    @Override
    public String toString() {
        return op + "@" + offset + "+" + length + (flags != 0 ? " flags=" + flags : "");
    }
}
