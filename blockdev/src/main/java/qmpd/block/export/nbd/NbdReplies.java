package qmpd.block.export.nbd;

import qmpd.aio.annotation.HomeThread;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes replies (simple, or structured chunks when negotiated) and queues them on the
 * connection; the connection writes everything queued in one gathered write per loop iteration.
 * Each reply is one header buffer plus, for reads, the data buffer itself: no copy of the data.
 */
final class NbdReplies {

    private final NbdConnection conn;
    private final boolean structured;

    NbdReplies(NbdConnection conn, boolean structured) {
        this.conn = conn;
        this.structured = structured;
    }

    /** A reply with no data: success, or an error of a command that is not READ (simple form). */
    @HomeThread
    void simple(NbdRequest r, int error) {
        conn.queue(simpleHeader(r, error), r);
        conn.scheduleFlush();
    }

    /** A successful READ: the data follows the header. */
    @HomeThread
    void readData(NbdRequest r) {
        ByteBuffer h = readHeader(r, structured);
        if (structured && r.length == 0) {
            conn.queue(h, r);   // a structured reply to an empty read carries no data chunk
        } else {
            conn.queue(h, null);
            conn.queue(r.data, r);
        }
        conn.scheduleFlush();
    }

    /** Encodes a simple reply into the request's own header buffer (no allocation); ready to send. */
    static ByteBuffer simpleHeader(NbdRequest r, int error) {
        return r.header.clear().putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(error).putLong(r.handle).flip();
    }

    /**
     * Encodes the header that precedes a successful READ's data into the request's header buffer:
     * a simple reply, or an OFFSET_DATA chunk (a NONE chunk for an empty read) when structured.
     */
    static ByteBuffer readHeader(NbdRequest r, boolean structured) {
        ByteBuffer h = r.header.clear();
        if (!structured) {
            h.putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.handle);
        } else if (r.length == 0) {
            h.putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                    .putShort((short) Nbd.REPLY_TYPE_NONE).putLong(r.handle).putInt(0);
        } else {
            h.putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                    .putShort((short) Nbd.REPLY_TYPE_OFFSET_DATA).putLong(r.handle)
                    .putInt(8 + r.length).putLong(r.offset);
        }
        return h.flip();
    }

    /** A failed request: an error chunk with the message when structured, else a simple reply. */
    @HomeThread
    void error(NbdRequest r, int error, String message) {
        if (!structured) {
            simple(r, error);
            return;
        }
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        if (msg.length > 4096) {
            msg = java.util.Arrays.copyOf(msg, 4096);
        }
        ByteBuffer b = ByteBuffer.allocate(20 + 6 + msg.length);
        b.putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                .putShort((short) Nbd.REPLY_TYPE_ERROR).putLong(r.handle).putInt(6 + msg.length)
                .putInt(error).putShort((short) msg.length).put(msg).flip();
        conn.queue(b, r);
        conn.scheduleFlush();
    }

    /** BLOCK_STATUS for base:allocation: one chunk with every extent gathered. */
    @HomeThread
    void blockStatus(NbdRequest r) {
        int payload = 4 + 8 * r.extentCount;
        ByteBuffer b = ByteBuffer.allocate(20 + payload);
        b.putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE)
                .putShort((short) Nbd.REPLY_TYPE_BLOCK_STATUS).putLong(r.handle).putInt(payload)
                .putInt(Nbd.META_ID_BASE_ALLOCATION);
        for (int i = 0; i < r.extentCount; i++) {
            b.putInt(r.extents[2 * i]).putInt(r.extents[2 * i + 1]);
        }
        conn.queue(b.flip(), r);
        conn.scheduleFlush();
    }
}
