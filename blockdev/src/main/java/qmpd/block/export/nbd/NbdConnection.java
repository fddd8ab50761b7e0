package qmpd.block.export.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.FdHandler;
import qmpd.aio.Fds;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.HomeThread;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * One NBD client connection: its socket, buffers and the two protocol phases. The handshake runs
 * in the main loop's context; once the client picks an export, the connection moves to the
 * context of the export's node and is served entirely there (socket reads, decoding, block
 * requests, replies), never under the GlobalLock.
 *
 * <p>Owner: the home thread of {@link #ctx}. A context move of the node happens inside a drained
 * section; the export then calls {@link #detach}/{@link #attach} with the contexts acquired.
 */
public final class NbdConnection {

    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    /** Input buffer: holds several headers and small writes; larger payloads are read in place. */
    private static final int IN_BUFFER = 256 << 10;
    /** Stop reading new requests past this many in flight or this many bytes queued for sending. */
    static final int MAX_IN_FLIGHT = 128;
    private static final long MAX_QUEUED_BYTES = 64L << 20;

    private final SocketChannel channel;
    private final int fd;
    private final NbdServer server;
    private final ByteBuffer in = ByteBuffer.allocateDirect(IN_BUFFER);
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private final ArrayDeque<NbdRequest> outOwners = new ArrayDeque<>();  // parallel to out: recycle after sending
    private final ByteBuffer[] gather = new ByteBuffer[64];
    private long queuedBytes;

    /**
     * The home context. Written by the main loop only (handshake hand-off, node moves); read by
     * BHs that may have been scheduled into a context the connection has since left, hence volatile.
     */
    private volatile AioContext ctx;
    /**
     * Bumped by the main loop at every hand-off, detach and attach. The BH that installs the
     * socket's handler in a new context runs only if no move happened since it was scheduled:
     * between a detach and the next attach {@code ctx} still names the context being left, so
     * checking {@code ctx} alone let a stale BH install the socket there.
     */
    private volatile int placement;
    private FdHandler handler;
    private BottomHalf flushBh;     // coalesces the replies completed in one loop iteration
    private NbdNegotiation negotiation;
    private NbdTransmission transmission;
    private boolean readClosed;     // no more requests will be read
    private AioContext handOffTo;   // set by the handshake: the context to move to once input processing unwinds
    private boolean aborted;        // output is dropped, not sent: replies still to come just finish their request
    private boolean closed;
    private boolean inBatch;        // readable() is consuming input: replies wait for its single flush at the end
    private boolean flushPending;   // a reply was queued during the batch
    private boolean flushing;       // flush() is sending: completions leave the interest to its end

    NbdConnection(SocketChannel channel, NbdServer server) throws IOException {
        this.channel = channel;
        this.server = server;
        channel.configureBlocking(false);
        this.fd = Fds.fdOf(channel);
        in.flip();
    }

    /** Starts the handshake in {@code mainCtx}, the context the listener accepted in. */
    @HomeThread
    void start(AioContext mainCtx) {
        ctx = mainCtx;
        negotiation = new NbdNegotiation(server::lookupInfo, server::listInfo);
        handler = ctx.setFdHandler(fd, this::readable, this::writable, null);
        queue(ByteBuffer.wrap(negotiation.output()), null);
        flush();
    }

    @AnyThread
    AioContext context() {
        return ctx;
    }

    /**
     * Runs {@code task} in the connection's home thread. If the connection moves before the BH
     * runs, the BH follows it there instead (as aio_co_reschedule_self does), so the task never
     * runs in a context that no longer owns the connection.
     */
    @AnyThread
    void runInHome(String name, Runnable task) {
        AioContext target = ctx;
        target.runOnce(name, () -> {
            if (ctx != target) {
                runInHome(name, task);
                return;
            }
            task.run();
        });
    }

    /** The export chosen in the handshake, or null while negotiating. */
    @AnyThread
    NbdExport export() {
        NbdTransmission t = transmission;
        return t == null ? null : t.export();
    }

    // ------------------------------------------------------------------ socket input

    @HomeThread
    private void readable() {
        if (readClosed) {
            return;
        }
        // One batch: read what the socket holds, decode and start every request in it, then
        // send every reply that completed meanwhile in one gathered write. A short read means the
        // socket is drained: the loop stops there instead of paying one more read for EAGAIN
        // (epoll is level-triggered, so bytes arriving later are reported again).
        inBatch = true;
        try {
            readBatch();
        } catch (IOException e) {
            LOG.debug("event=nbd-read-error fd={} error=\"{}\"", fd, e.getMessage());
            abort();
        } finally {
            inBatch = false;
        }
        if (flushPending) {
            flushPending = false;
            flush();   // also after peerClosed(): the replies still go out before the close
        }
        if (handOffTo != null) {
            handOff();   // last: from here on the connection belongs to another thread
            return;
        }
        updateInterest();
    }

    private void readBatch() throws IOException {
        while (!readClosed && !backpressure() && handOffTo == null) {
            if (transmission != null && transmission.wantsDirectRead()) {
                int n = transmission.readPayloadDirect(channel);
                if (n < 0) {
                    peerClosed();
                    return;
                }
                if (n == 0 || transmission.wantsDirectRead()) {
                    return;   // nothing, or less than the payload's rest: drained
                }
                continue;
            }
            in.compact();
            int space = in.remaining();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                peerClosed();
                return;
            }
            if (n == 0 && !in.hasRemaining()) {
                return;
            }
            boolean consumed = process();
            if (n < space || (!consumed && n == 0)) {
                return;
            }
        }
    }

    /** Feeds buffered bytes to the current phase; returns whether anything was consumed. */
    private boolean process() {
        int before = in.position();
        if (transmission == null) {
            NbdNegotiation.Progress p = negotiation.feed(in);
            byte[] reply = negotiation.output();
            if (reply.length > 0) {
                queue(ByteBuffer.wrap(reply), null);
            }
            switch (p) {
                case CLOSE -> {
                    LOG.debug("event=nbd-handshake-end fd={} reason=\"{}\"", fd, negotiation.closeReason());
                    readClosed = true;
                    flush();
                    closeWhenIdle();
                }
                case TRANSMISSION -> beginTransmission();
                case NEED_MORE -> flush();
            }
        } else {
            transmission.decode(in);
        }
        return in.position() != before;
    }

    private void beginTransmission() {
        NbdExport exp = (NbdExport) negotiation.export();
        transmission = new NbdTransmission(this, exp, negotiation.structuredReplies(), negotiation.baseAllocation());
        flush();
        if (!exp.connect(this)) {
            abort();   // the export went away or is full
            return;
        }
        AioContext target = exp.node().context();
        if (target != ctx) {
            // Stop watching the socket here; readable() hands the connection over once it has
            // unwound, so no two threads ever touch the input buffer at once.
            handler.remove();
            handler = null;
            dropFlushBh();
            handOffTo = target;
        } else {
            transmission.decode(in);
        }
    }

    /** Moves the connection into {@link #handOffTo}: the caller must not touch it afterwards. */
    private void handOff() {
        AioContext target = handOffTo;
        handOffTo = null;
        ctx = target;
        int p = ++placement;   // single writer: the main loop
        target.runOnce("nbd-connection-move", () -> {
            if (closed || placement != p) {
                return;   // the node moved on before this ran: that move's attach takes over
            }
            handler = target.setFdHandler(fd, this::readable, this::writable, null);
            updateInterest();
            readable();   // bytes may already be buffered
        });
    }

    private boolean backpressure() {
        return transmission != null
                && (transmission.inFlight() >= MAX_IN_FLIGHT || queuedBytes >= MAX_QUEUED_BYTES);
    }

    /** The client closed its end (or sent NBD_CMD_DISC): finish what is in flight, then close. */
    void peerClosed() {
        readClosed = true;
        if (transmission != null) {
            transmission.dropPartial();   // a WRITE whose payload will never arrive
        }
        updateInterest();
        closeWhenIdle();
    }

    // ------------------------------------------------------------------ socket output

    /** Queues buffers to send; {@code owner}, if any, is recycled once they are all written. */
    @HomeThread
    void queue(ByteBuffer b, NbdRequest owner) {
        if (aborted) {
            // Nobody will read it: the request is finished as if sent, so the close is not held up.
            if (owner != null && transmission != null) {
                transmission.finish(owner);
                closeWhenIdle();
            }
            return;
        }
        out.add(b);
        outOwners.add(owner == null ? NbdTransmission.NO_OWNER : owner);
        queuedBytes += b.remaining();
    }

    /** Writes the queued replies once the current loop iteration has produced all it will. */
    @HomeThread
    void scheduleFlush() {
        if (aborted || closed) {
            return;   // nothing will be sent; a BH created now would outlive the connection
        }
        if (inBatch) {
            flushPending = true;   // readable() flushes once at the end of its batch
            return;
        }
        if (flushBh == null) {
            flushBh = ctx.bhNew("nbd-flush", this::flush);
        }
        flushBh.schedule();
    }

    private void dropFlushBh() {
        if (flushBh != null) {
            flushBh.delete();
            flushBh = null;
        }
    }

    /** Writes as much as the socket takes, gathering up to 64 buffers per system call. */
    @HomeThread
    void flush() {
        if (closed) {
            return;
        }
        flushing = true;
        try {
            // A sent reply may finish the last request and close the connection under us.
            while (!closed && !out.isEmpty()) {
                int n = 0;
                for (ByteBuffer b : out) {
                    gather[n++] = b;
                    if (n == gather.length) {
                        break;
                    }
                }
                long written = channel.write(gather, 0, n);
                queuedBytes -= written;
                while (!out.isEmpty() && !out.peek().hasRemaining()) {
                    out.poll();
                    NbdRequest owner = outOwners.poll();
                    if (owner != NbdTransmission.NO_OWNER && transmission != null) {
                        transmission.sent(owner);
                    }
                }
                java.util.Arrays.fill(gather, 0, n, null);
                if (written == 0) {
                    break;
                }
            }
        } catch (IOException e) {
            LOG.debug("event=nbd-write-error fd={} error=\"{}\"", fd, e.getMessage());
            abort();
            return;
        } finally {
            flushing = false;
        }
        if (closed) {
            return;
        }
        updateInterest();
        closeWhenIdle();
    }

    @HomeThread
    private void writable() {
        flush();
        if (!readClosed && !backpressure() && in.hasRemaining()) {
            readable();
        }
    }

    private void updateInterest() {
        if (handler != null && !closed) {
            handler.setInterest(!readClosed && !backpressure(), !out.isEmpty());
        }
    }

    /** Called when a request completes: reading may resume. */
    @HomeThread
    void requestDone() {
        if (!readClosed && !backpressure()) {
            if (!flushing) {
                updateInterest();   // flush() sets the interest once, after its last write
            }
            if (in.hasRemaining()) {
                process();
            }
        }
        closeWhenIdle();
    }

    // ------------------------------------------------------------------ lifecycle

    private void closeWhenIdle() {
        if (readClosed && !closed && out.isEmpty() && (transmission == null || transmission.inFlight() == 0)) {
            close();
        }
    }

    /** Drops the connection now (protocol violation, socket error, hard export removal). */
    @HomeThread
    void abort() {
        readClosed = true;
        aborted = true;
        if (transmission != null) {
            transmission.dropPartial();
        }
        // Replies queued but never to be sent still own their requests: finish those, or the
        // in-flight count never reaches zero and the connection never closes.
        while (!out.isEmpty()) {
            out.poll();
            NbdRequest owner = outOwners.poll();
            if (owner != NbdTransmission.NO_OWNER && transmission != null) {
                transmission.finish(owner);
            }
        }
        queuedBytes = 0;
        if (transmission == null || transmission.inFlight() == 0) {
            close();
        } else {
            // In-flight requests own buffers and will complete; close when the last one does.
            updateInterest();
        }
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        dropFlushBh();
        if (handler != null) {
            handler.remove();
            handler = null;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("event=nbd-close-error fd={} error=\"{}\"", fd, e.getMessage());
        }
        server.connectionClosed(this);
    }

    @AnyThread
    boolean isClosed() {
        return closed;
    }

    /** The node leaves {@code old}: stop watching the socket there. Caller holds {@code old}. */
    @GlobalState
    void detach(AioContext old) {
        placement++;   // single writer: the main loop; a hand-off or attach BH not yet run is now stale
        dropFlushBh();
        if (handler != null) {
            handler.remove();
            handler = null;
        }
    }

    /** The node now lives in {@code ctx}: watch the socket there. Caller holds {@code ctx}. */
    @GlobalState
    void attach(AioContext newCtx) {
        ctx = newCtx;
        int p = ++placement;   // single writer: the main loop
        if (!closed) {
            newCtx.runOnce("nbd-connection-attach", () -> {
                // Another move may have begun (detach) or ended (attach) before this ran: then
                // this BH is stale, and the newer attach's BH takes over.
                if (!closed && handler == null && placement == p) {
                    handler = newCtx.setFdHandler(fd, this::readable, this::writable, null);
                    flush();
                    if (in.hasRemaining()) {
                        readable();
                    }
                }
            });
        }
    }

    @Override
    public String toString() {
        return "NbdConnection[fd=" + fd + "]";
    }
}
