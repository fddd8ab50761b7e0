package qmpd.block.export.nbd;

import qmpd.aio.annotation.HomeThread;
import qmpd.block.BlockNode;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.block.Errno;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * The transmission phase of one connection: decodes requests, checks them as QEMU's
 * nbd_co_receive_request does, submits block requests (many in flight at once), and queues each
 * reply as its request completes. Home thread of the export's node only.
 */
final class NbdTransmission {

    /** Marks output with nothing to recycle. */
    static final NbdRequest NO_OWNER = new NbdRequest();

    private enum State { HEADER, PAYLOAD, DISCARD }

    private final NbdConnection conn;
    private final NbdExport export;
    private final boolean structured;
    private final boolean baseAllocation;
    private final BufferPool buffers = new BufferPool();
    private final ArrayDeque<NbdRequest> free = new ArrayDeque<>();
    private final NbdReplies replies;

    private State state = State.HEADER;
    private NbdRequest current;          // PAYLOAD / DISCARD: the request being read
    private long discardRemaining;
    private int inFlight;                // requests read and not yet fully replied

    NbdTransmission(NbdConnection conn, NbdExport export, boolean structured, boolean baseAllocation) {
        this.conn = conn;
        this.export = export;
        this.structured = structured;
        this.baseAllocation = baseAllocation;
        this.replies = new NbdReplies(conn, structured);
    }

    NbdExport export() {
        return export;
    }

    int inFlight() {
        return inFlight;
    }

    /** Whether the next bytes are a payload big enough to read straight into its buffer. */
    boolean wantsDirectRead() {
        return state == State.PAYLOAD && current.data.remaining() > 0 && current.data.remaining() >= 64 << 10;
    }

    /** Reads payload bytes straight from the socket; returns the count, or -1 at end of stream. */
    int readPayloadDirect(SocketChannel ch) throws IOException {
        int n = ch.read(current.data);
        if (n > 0 && !current.data.hasRemaining()) {
            payloadComplete();
        }
        return n;
    }

    /** Consumes whole requests (and payload bytes) from {@code in}. */
    @HomeThread
    void decode(ByteBuffer in) {
        while (true) {
            switch (state) {
                case HEADER -> {
                    if (in.remaining() < 28 || inFlight >= NbdConnection.MAX_IN_FLIGHT) {
                        return;
                    }
                    if (in.getInt() != Nbd.REQUEST_MAGIC) {
                        // The stream cannot be resynchronised: QEMU drops the client too.
                        conn.abort();
                        return;
                    }
                    int flags = Short.toUnsignedInt(in.getShort());
                    int type = Short.toUnsignedInt(in.getShort());
                    long handle = in.getLong();
                    long offset = in.getLong();
                    int length = in.getInt();
                    header(in, takeRequest().set(handle, type, flags, offset, length));
                    if (state == State.HEADER && type == Nbd.CMD_DISC) {
                        return;
                    }
                }
                case PAYLOAD -> {
                    ByteBuffer d = current.data;
                    int n = Math.min(d.remaining(), in.remaining());
                    d.put(d.position(), in, in.position(), n);
                    d.position(d.position() + n);
                    in.position(in.position() + n);
                    if (d.hasRemaining()) {
                        return;
                    }
                    payloadComplete();
                }
                case DISCARD -> {
                    int n = (int) Math.min(discardRemaining, in.remaining());
                    in.position(in.position() + n);
                    discardRemaining -= n;
                    if (discardRemaining > 0) {
                        return;
                    }
                    state = State.HEADER;
                    NbdRequest r = current;
                    current = null;
                    replies.error(r, Nbd.EINVAL, "len (" + Integer.toUnsignedString(r.length)
                            + ") is larger than max len (" + Nbd.MAX_BUFFER_SIZE + ")");
                }
            }
        }
    }

    private NbdRequest takeRequest() {
        NbdRequest r = free.poll();
        inFlight++;
        return r != null ? r : new NbdRequest();
    }

    /** Checks a decoded header (QEMU's nbd_co_receive_request) and starts the request. */
    private void header(ByteBuffer in, NbdRequest r) {
        long len = Integer.toUnsignedLong(r.length);
        if (r.type == Nbd.CMD_WRITE) {
            if (len > Nbd.MAX_BUFFER_SIZE) {
                // Read and drop the payload to stay in step with the client, then refuse it.
                current = r;
                discardRemaining = len;
                state = State.DISCARD;
                return;
            }
            r.data = buffers.take(r.length);
            current = r;
            state = State.PAYLOAD;
            return;
        }
        if (r.type == Nbd.CMD_DISC) {
            recycle(r);
            conn.peerClosed();
            return;
        }
        start(r);
    }

    private void payloadComplete() {
        NbdRequest r = current;
        current = null;
        state = State.HEADER;
        r.data.flip();
        start(r);
    }

    /** Validates and submits; every path ends in exactly one reply. */
    private void start(NbdRequest r) {
        String err = validate(r);
        if (err != null) {
            int code = err.equals("Export is read-only") ? Nbd.EPERM : Nbd.EINVAL;
            replies.error(r, code, err);
            return;
        }
        BlockNode node = export.node();
        BlockRequest b = r.block;
        int fua = (r.flags & Nbd.CMD_FLAG_FUA) != 0 ? BlockRequest.FLAG_FUA : 0;
        switch (r.type) {
            case Nbd.CMD_READ -> {
                r.data = buffers.take(r.length);
                b.set(BlockOp.READ, r.offset, r.length, r.data, 0, this::readDone);
            }
            case Nbd.CMD_WRITE -> b.set(BlockOp.WRITE, r.offset, r.length, r.data, fua, this::genericDone);
            case Nbd.CMD_FLUSH -> b.set(BlockOp.FLUSH, 0, 0, null, 0, this::genericDone);
            case Nbd.CMD_TRIM -> b.set(BlockOp.DISCARD, r.offset, r.length, null, fua, this::genericDone);
            case Nbd.CMD_WRITE_ZEROES -> {
                int f = fua | ((r.flags & Nbd.CMD_FLAG_NO_HOLE) == 0 ? BlockRequest.FLAG_MAY_UNMAP : 0)
                        | ((r.flags & Nbd.CMD_FLAG_FAST_ZERO) != 0 ? BlockRequest.FLAG_NO_FALLBACK : 0);
                b.set(BlockOp.WRITE_ZEROES, r.offset, r.length, null, f, this::genericDone);
            }
            case Nbd.CMD_CACHE -> {
                replies.simple(r, 0);   // the page cache is ours already: nothing to prefetch
                return;
            }
            case Nbd.CMD_BLOCK_STATUS -> {
                nextStatus(r);
                return;
            }
            default -> throw new IllegalStateException("validated unknown command " + r.type);
        }
        node.submit(b);
    }

    /** QEMU's checks, in its order, with its messages; null when the request may run. */
    private String validate(NbdRequest r) {
        int valid = Nbd.CMD_FLAG_FUA;
        switch (r.type) {
            case Nbd.CMD_READ -> valid |= structured ? Nbd.CMD_FLAG_DF : 0;
            case Nbd.CMD_WRITE_ZEROES -> valid |= Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;
            case Nbd.CMD_BLOCK_STATUS -> valid |= Nbd.CMD_FLAG_REQ_ONE;
            case Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_CACHE -> {
            }
            default -> {
                return "unsupported command " + r.type;
            }
        }
        if ((r.flags & ~valid) != 0) {
            return String.format("unsupported flags for command %d (got 0x%x)", r.type, r.flags);
        }
        long len = Integer.toUnsignedLong(r.length);
        if (r.type == Nbd.CMD_READ && len > Nbd.MAX_BUFFER_SIZE) {
            return "len (" + len + ") is larger than max len (" + Nbd.MAX_BUFFER_SIZE + ")";
        }
        boolean writes = r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_TRIM || r.type == Nbd.CMD_WRITE_ZEROES;
        if (writes && !export.writable()) {
            return "Export is read-only";
        }
        if (r.type != Nbd.CMD_FLUSH) {
            long size = export.size();
            if (r.offset < 0 || r.offset > size || len > size - r.offset) {
                return "operation past EOF; From: " + Long.toUnsignedString(r.offset) + ", Len: " + len
                        + ", Size: " + size;
            }
        }
        if (r.type == Nbd.CMD_BLOCK_STATUS) {
            if (!baseAllocation) {
                return "CMD_BLOCK_STATUS not negotiated";
            }
            if (len == 0) {
                return "need non-zero length";
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ completions

    private void readDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            replies.error(r, NbdErrno.fromErrno(b.result()), "read failed: " + Errno.name(b.result()));
        } else {
            r.data.position(0).limit(r.length);
            replies.readData(r);
        }
    }

    private void genericDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            replies.error(r, NbdErrno.fromErrno(b.result()), Errno.name(b.result()));
        } else {
            replies.simple(r, 0);
        }
    }

    /** BLOCK_STATUS: asks the node extent by extent until the range or the extent budget is used. */
    private void nextStatus(NbdRequest r) {
        long remaining = Integer.toUnsignedLong(r.length) - r.statusDone;
        int len = (int) Math.min(remaining, 1L << 30);
        r.block.set(BlockOp.BLOCK_STATUS, r.offset + r.statusDone, len, null, 0, this::statusDone);
        export.node().submit(r.block);
    }

    private void statusDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            replies.error(r, NbdErrno.fromErrno(b.result()), "block status failed: " + Errno.name(b.result()));
            return;
        }
        int state = ((b.statusFlags() & BlockRequest.STATUS_DATA) == 0 ? Nbd.STATE_HOLE : 0)
                | ((b.statusFlags() & BlockRequest.STATUS_ZERO) != 0 ? Nbd.STATE_ZERO : 0);
        long got = Math.max(1, Math.min(b.statusLength(), b.length()));
        r.addExtent((int) got, state);
        r.statusDone += got;
        boolean one = (r.flags & Nbd.CMD_FLAG_REQ_ONE) != 0;
        if (r.statusDone < Integer.toUnsignedLong(r.length) && !one && r.extentCount < 4096) {
            nextStatus(r);
        } else {
            replies.blockStatus(r);
        }
    }

    /** The connection wrote the last buffer of a reply: the request is finished. */
    void sent(NbdRequest r) {
        recycle(r);
        conn.requestDone();
    }

    private void recycle(NbdRequest r) {
        if (r.data != null) {
            buffers.give(r.data);
            r.data = null;
        }
        inFlight--;
        free.push(r);
    }
}
