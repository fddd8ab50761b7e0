package qmpd.block.export.nbd;

import qmpd.block.BlockRequest;

import java.nio.ByteBuffer;

/**
 * One transmission-phase request and the state of its reply, recycled by its connection.
 * Home thread of the connection only.
 */
final class NbdRequest {
    long handle;
    int type;
    int flags;
    long offset;
    int length;
    /** READ destination or WRITE payload, from the connection's pool; null for other commands. */
    ByteBuffer data;
    /** Header of the reply (simple or structured chunk); reused. */
    final ByteBuffer header = ByteBuffer.allocateDirect(32);
    /** BLOCK_STATUS extents being gathered: pairs of (length, flags). */
    int[] extents = new int[32];
    int extentCount;
    long statusDone;
    final BlockRequest block = new BlockRequest();

    NbdRequest set(long handle, int type, int flags, long offset, int length) {
        this.handle = handle;
        this.type = type;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.data = null;
        this.extentCount = 0;
        this.statusDone = 0;
        this.block.attach(this);
        return this;
    }

    /**
     * Decodes one 28-byte request header from {@code in} (which must hold that many) into this
     * request, reset for it; returns the magic, which the caller checks.
     */
    int decode(ByteBuffer in) {
        int magic = in.getInt();
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long handle = in.getLong();
        long offset = in.getLong();
        int length = in.getInt();
        set(handle, type, flags, offset, length);
        return magic;
    }

    void addExtent(int len, int state) {
        if (extentCount > 0 && extents[2 * extentCount - 1] == state
                && Integer.toUnsignedLong(extents[2 * extentCount - 2]) + Integer.toUnsignedLong(len) <= 0xffffffffL) {
            extents[2 * extentCount - 2] += len;   // merge with the previous extent of the same state
            return;
        }
        if (2 * extentCount + 2 > extents.length) {
            extents = java.util.Arrays.copyOf(extents, extents.length * 2);
        }
        extents[2 * extentCount] = len;
        extents[2 * extentCount + 1] = state;
        extentCount++;
    }
}
