package qmpd.block.export.nbd;

import qmpd.aio.annotation.HomeThread;
import qmpd.block.BlockCompletion;
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

    private enum State { HEADER, PAYLOAD, CLOSED }

    private final NbdConnection conn;
    private final NbdExport export;
    private final boolean structured;
    private final boolean baseAllocation;
    private final BufferPool buffers = new BufferPool();
    private final ArrayDeque<NbdRequest> free = new ArrayDeque<>();
    private final NbdReplies replies;
    private final NbdRequestCounters counters;
    // The completions, bound once: a method reference written at each submission is a new object.
    private final BlockCompletion onRead = this::readDone;
    private final BlockCompletion onGeneric = this::genericDone;
    private final BlockCompletion onStatus = this::statusDone;

    private State state = State.HEADER;
    private NbdRequest current;          // PAYLOAD: the request being read
    private int inFlight;                // requests read and not yet fully replied

    NbdTransmission(NbdConnection conn, NbdExport export, boolean structured, boolean baseAllocation) {
        this.conn = conn;
        this.export = export;
        this.structured = structured;
        this.baseAllocation = baseAllocation;
        this.replies = new NbdReplies(conn, structured);
        this.counters = export.requestCounters();
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
                    NbdRequest r = takeRequest();
                    int magic = r.decode(in);
                    int type = r.type;
                    if (magic != Nbd.REQUEST_MAGIC) {
                        // The stream cannot be resynchronised. QEMU 7.2 still answers EINVAL (to
                        // the handle it decoded) before it drops the client; so do we.
                        counters.request(NbdRequestCounters.UNREADABLE);
                        counters.error(NbdRequestCounters.UNREADABLE);
                        state = State.CLOSED;
                        replies.error(r, Nbd.EINVAL, String.format("invalid magic (got 0x%x)", magic));
                        conn.peerClosed();
                        return;
                    }
                    counters.request(type);
                    header(r);
                    if (state == State.CLOSED || (state == State.HEADER && type == Nbd.CMD_DISC)) {
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
                case CLOSED -> {
                    return;
                }
            }
        }
    }

    /** Answers {@code r} with EINVAL, then reads nothing more: the connection closes once replies are out. */
    private void fatal(NbdRequest r, String message) {
        state = State.CLOSED;
        error(r, Nbd.EINVAL, message);
        conn.peerClosed();
    }

    /** Every error reply goes out here, so that it is counted once. */
    private void error(NbdRequest r, int nbdErrno, String message) {
        counters.error(r.type);
        replies.error(r, nbdErrno, message);
    }

    private NbdRequest takeRequest() {
        NbdRequest r = free.poll();
        inFlight++;
        return r != null ? r : new NbdRequest();
    }

    /** Checks a decoded header (QEMU's nbd_co_receive_request) and starts the request. */
    private void header(NbdRequest r) {
        if (r.type == Nbd.CMD_DISC) {
            recycle(r);
            conn.peerClosed();
            return;
        }
        boolean buffered = r.type == Nbd.CMD_READ || r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_CACHE;
        long len = Integer.toUnsignedLong(r.length);
        if (buffered && len > Nbd.MAX_BUFFER_SIZE) {
            String msg = "len (" + len + ") is larger than max len (" + Nbd.MAX_BUFFER_SIZE + ")";
            if (r.type == Nbd.CMD_WRITE) {
                // The payload is not read, so the stream is lost: QEMU answers, then disconnects.
                fatal(r, msg);
            } else {
                error(r, Nbd.EINVAL, msg);
            }
            return;
        }
        if (r.type == Nbd.CMD_WRITE) {
            r.data = buffers.take(r.length);
            current = r;
            state = State.PAYLOAD;
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
            // QEMU 7.2 answers every rejected request with EINVAL, read-only and past-EOF writes too.
            error(r, Nbd.EINVAL, err);
            return;
        }
        BlockNode node = export.node();
        BlockRequest b = r.block;
        int fua = (r.flags & Nbd.CMD_FLAG_FUA) != 0 ? BlockRequest.FLAG_FUA : 0;
        switch (r.type) {
            case Nbd.CMD_READ -> {
                r.data = buffers.take(r.length);
                b.set(BlockOp.READ, r.offset, r.length, r.data, 0, onRead);
            }
            case Nbd.CMD_WRITE -> b.set(BlockOp.WRITE, r.offset, r.length, r.data, fua, onGeneric);
            case Nbd.CMD_FLUSH -> b.set(BlockOp.FLUSH, 0, 0, null, 0, onGeneric);
            case Nbd.CMD_TRIM -> b.set(BlockOp.DISCARD, r.offset, r.length, null, fua, onGeneric);
            case Nbd.CMD_WRITE_ZEROES -> {
                int f = fua | ((r.flags & Nbd.CMD_FLAG_NO_HOLE) == 0 ? BlockRequest.FLAG_MAY_UNMAP : 0)
                        | ((r.flags & Nbd.CMD_FLAG_FAST_ZERO) != 0 ? BlockRequest.FLAG_NO_FALLBACK : 0);
                b.set(BlockOp.WRITE_ZEROES, r.offset, r.length, null, f, onGeneric);
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

    /**
     * QEMU's checks after the payload is in, in its order (read-only, bounds, flags, then the
     * command's own), with its messages; null when the request may run.
     */
    private String validate(NbdRequest r) {
        boolean writes = r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_TRIM || r.type == Nbd.CMD_WRITE_ZEROES;
        if (writes && !export.writable()) {
            return "Export is read-only";
        }
        long len = Integer.toUnsignedLong(r.length);
        if (r.type != Nbd.CMD_FLUSH) {
            long size = export.size();
            if (r.offset < 0 || r.offset > size || len > size - r.offset) {
                return "operation past EOF; From: " + Long.toUnsignedString(r.offset) + ", Len: " + len
                        + ", Size: " + size;
            }
        }
        int valid = Nbd.CMD_FLAG_FUA;
        switch (r.type) {
            case Nbd.CMD_READ -> valid |= structured ? Nbd.CMD_FLAG_DF : 0;
            case Nbd.CMD_WRITE_ZEROES -> valid |= Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;
            case Nbd.CMD_BLOCK_STATUS -> valid |= Nbd.CMD_FLAG_REQ_ONE;
            default -> {
            }
        }
        if ((r.flags & ~valid) != 0) {
            return String.format("unsupported flags for command %d (got 0x%x)", r.type, r.flags);
        }
        switch (r.type) {
            case Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_CACHE, Nbd.CMD_WRITE_ZEROES -> {
                return null;
            }
            case Nbd.CMD_BLOCK_STATUS -> {
                if (!baseAllocation) {
                    return "CMD_BLOCK_STATUS not negotiated";
                }
                return len == 0 ? "need non-zero length" : null;
            }
            default -> {
                return "invalid request type (" + r.type + ") received";
            }
        }
    }

    // ------------------------------------------------------------------ completions

    private void readDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            error(r, NbdErrno.fromErrno(b.result()), "read failed: " + Errno.name(b.result()));
        } else {
            r.data.position(0).limit(r.length);
            replies.readData(r);
        }
    }

    private void genericDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            error(r, NbdErrno.fromErrno(b.result()), Errno.name(b.result()));
        } else {
            replies.simple(r, 0);
        }
    }

    /** BLOCK_STATUS: asks the node extent by extent until the range or the extent budget is used. */
    private void nextStatus(NbdRequest r) {
        long remaining = Integer.toUnsignedLong(r.length) - r.statusDone;
        int len = (int) Math.min(remaining, 1L << 30);
        r.block.set(BlockOp.BLOCK_STATUS, r.offset + r.statusDone, len, null, 0, onStatus);
        export.node().submit(r.block);
    }

    private void statusDone(BlockRequest b) {
        NbdRequest r = (NbdRequest) b.attachment();
        if (b.failed()) {
            error(r, NbdErrno.fromErrno(b.result()), "block status failed: " + Errno.name(b.result()));
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

    /** A reply that will never be sent (the connection is aborting): the request is over all the same. */
    void finish(NbdRequest r) {
        recycle(r);
    }

    /** Forgets a WRITE whose payload was still being read: the client is gone or the stream lost. */
    void dropPartial() {
        if (state == State.PAYLOAD) {
            NbdRequest r = current;
            current = null;
            recycle(r);
        }
        state = State.CLOSED;
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
