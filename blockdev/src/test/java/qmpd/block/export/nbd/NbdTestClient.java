package qmpd.block.export.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A small NBD client over a real socket for protocol tests: it sends exactly the bytes a test
 * asks for (well-formed or not) and decodes replies. Every read has a deadline, so a server that
 * never answers fails the test instead of hanging it. Not thread-safe: one test thread.
 */
final class NbdTestClient implements AutoCloseable {

    static final long TIMEOUT_MS = 10_000;

    record OptionReply(int option, int type, byte[] data) {
        boolean isError() {
            return type < 0;
        }

        String message() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A whole reply: simple, or every chunk of a structured one gathered. */
    record Reply(long handle, int error, byte[] data, String message, List<int[]> extents, boolean structured) {
    }

    private final SocketChannel ch;
    private final Selector selector;
    private final SelectionKey key;
    private final Map<Long, Integer> readLengths = new HashMap<>();
    private final Map<Long, Long> readOffsets = new HashMap<>();
    boolean structured;
    long size;
    int transmissionFlags;

    private NbdTestClient(SocketAddress address) throws IOException {
        ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(java.net.StandardProtocolFamily.UNIX) : SocketChannel.open();
        ch.connect(address);
        ch.configureBlocking(false);
        selector = Selector.open();
        key = ch.register(selector, 0);
    }

    /** Connects and reads the server's greeting; the client flags are not sent yet. */
    static NbdTestClient connect(SocketAddress address) throws IOException {
        NbdTestClient c = new NbdTestClient(address);
        ByteBuffer g = c.read(18);
        assertEquals(Nbd.NBDMAGIC, g.getLong(), "NBDMAGIC");
        assertEquals(Nbd.IHAVEOPT, g.getLong(), "IHAVEOPT");
        assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, g.getShort(), "handshake flags");
        return c;
    }

    /** Connects and sends fixed-newstyle, no-zeroes client flags. */
    static NbdTestClient open(SocketAddress address) throws IOException {
        NbdTestClient c = connect(address);
        c.clientFlags(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        return c;
    }

    /** Opens, optionally negotiates structured replies and base:allocation, and GOes to {@code name}. */
    static NbdTestClient go(SocketAddress address, String name, boolean structured) throws IOException {
        NbdTestClient c = open(address);
        if (structured) {
            assertEquals(Nbd.REP_ACK, c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).getLast().type());
            List<OptionReply> meta = c.option(Nbd.OPT_SET_META_CONTEXT, metaData(name, Nbd.META_BASE_ALLOCATION));
            assertEquals(Nbd.REP_ACK, meta.getLast().type(), "SET_META_CONTEXT");
        }
        List<OptionReply> r = c.option(Nbd.OPT_GO, goData(name, Nbd.INFO_BLOCK_SIZE));
        assertEquals(Nbd.REP_ACK, r.getLast().type(), () -> "GO " + name + ": " + r.getLast().message());
        for (OptionReply o : r) {
            ByteBuffer d = ByteBuffer.wrap(o.data());
            if (o.type() == Nbd.REP_INFO && d.getShort() == Nbd.INFO_EXPORT) {
                c.size = d.getLong();
                c.transmissionFlags = d.getShort() & 0xffff;
            }
        }
        return c;
    }

    void clientFlags(int flags) throws IOException {
        write(ByteBuffer.allocate(4).putInt(flags).flip());
    }

    // ------------------------------------------------------------------ options

    void sendOption(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(Nbd.IHAVEOPT).putInt(option).putInt(data.length)
                .put(data).flip());
    }

    OptionReply readOptionReply() throws IOException {
        ByteBuffer h = read(20);
        assertEquals(Nbd.OPTION_REPLY_MAGIC, h.getLong(), "option reply magic");
        int option = h.getInt();
        int type = h.getInt();
        return new OptionReply(option, type, read(h.getInt()).array());
    }

    /** Sends an option and reads replies up to its ACK or first error. */
    List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        if (option == Nbd.OPT_STRUCTURED_REPLY) {
            structured = true;
        }
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = readOptionReply();
            assertEquals(option, r.option(), "reply to the option asked");
            replies.add(r);
            if (r.type() == Nbd.REP_ACK || r.isError()) {
                if (r.isError() && option == Nbd.OPT_STRUCTURED_REPLY) {
                    structured = false;
                }
                return replies;
            }
        }
    }

    static byte[] goData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n)
                .putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaData(String name, String... queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int len = 4 + n.length + 4;
        for (String q : queries) {
            len += 4 + q.length();
        }
        ByteBuffer b = ByteBuffer.allocate(len).putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            b.putInt(q.length()).put(q.getBytes(StandardCharsets.UTF_8));
        }
        return b.array();
    }

    // ------------------------------------------------------------------ transmission

    void request(int type, int flags, long handle, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(Nbd.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle)
                .putLong(offset).putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        if (type == Nbd.CMD_READ) {
            readLengths.put(handle, length);
            readOffsets.put(handle, offset);
        }
        write(b.flip());
    }

    /** Reads one reply; a simple READ reply's data length comes from the request with that handle. */
    Reply reply() throws IOException {
        int magic = read(4).getInt();
        if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
            ByteBuffer h = read(12);
            int error = h.getInt();
            long handle = h.getLong();
            Integer len = readLengths.remove(handle);
            byte[] data = error == 0 && len != null ? read(len).array() : null;
            return new Reply(handle, error, data, null, List.of(), false);
        }
        assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, magic, "reply magic");
        long handle = 0;
        int error = 0;
        String message = null;
        byte[] data = null;
        List<int[]> extents = new ArrayList<>();
        while (true) {
            ByteBuffer h = read(16);
            int flags = h.getShort();
            int type = h.getShort() & 0xffff;
            handle = h.getLong();
            ByteBuffer p = read(h.getInt());
            switch (type) {
                case Nbd.REPLY_TYPE_OFFSET_DATA -> {
                    long off = p.getLong();
                    Integer len = readLengths.get(handle);
                    if (data == null) {
                        data = new byte[len == null ? p.remaining() : len];
                    }
                    p.get(data, (int) (off - readOffsets.getOrDefault(handle, off)), p.remaining());
                }
                case Nbd.REPLY_TYPE_ERROR, Nbd.REPLY_TYPE_ERROR_OFFSET -> {
                    error = p.getInt();
                    byte[] m = new byte[p.getShort() & 0xffff];
                    p.get(m);
                    message = new String(m, StandardCharsets.UTF_8);
                }
                case Nbd.REPLY_TYPE_BLOCK_STATUS -> {
                    assertEquals(Nbd.META_ID_BASE_ALLOCATION, p.getInt(), "context id");
                    while (p.hasRemaining()) {
                        extents.add(new int[] {p.getInt(), p.getInt()});
                    }
                }
                case Nbd.REPLY_TYPE_NONE -> {
                }
                default -> throw new AssertionError("unexpected chunk type " + type);
            }
            if ((flags & Nbd.REPLY_FLAG_DONE) != 0) {
                break;
            }
            int m = read(4).getInt();
            assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, m, "chunk magic");
        }
        readLengths.remove(handle);
        readOffsets.remove(handle);
        return new Reply(handle, error, data, message, extents, true);
    }

    /** One request and its reply; the handle is 1. */
    Reply call(int type, int flags, long offset, int length, byte[] payload) throws IOException {
        request(type, flags, 1, offset, length, payload);
        Reply r = reply();
        assertEquals(1, r.handle(), "reply handle");
        return r;
    }

    /** Waits (bounded) for the server to close the connection; fails if bytes arrive instead. */
    void assertClosedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            int n = readSome(b);
            throw new AssertionError("expected the server to close, got " + n + " byte(s)");
        } catch (EOFException | java.net.SocketException e) {
            // closed (or reset): as expected
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("reset")) {
                throw e;
            }
        }
    }

    // ------------------------------------------------------------------ socket

    void write(ByteBuffer b) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (b.hasRemaining()) {
            if (ch.write(b) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            readSome(b);
        }
        return b.flip();
    }

    private int readSome(ByteBuffer b) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (true) {
            int n = ch.read(b);
            if (n < 0) {
                throw new EOFException("server closed the connection");
            }
            if (n > 0) {
                return n;
            }
            await(SelectionKey.OP_READ, deadline);
        }
    }

    private void await(int op, long deadline) throws IOException {
        key.interestOps(op);
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || selector.select(left) == 0 && System.nanoTime() >= deadline) {
            throw new AssertionError("no " + (op == SelectionKey.OP_READ ? "reply" : "room to send")
                    + " within " + TIMEOUT_MS + " ms");
        }
        selector.selectedKeys().clear();
        key.interestOps(0);
    }

    /**
     * A fresh connection to {@code name} writes, reads back and flushes 4 KiB at {@code offset},
     * then disconnects cleanly: the server is still healthy.
     */
    static void assertServes(SocketAddress address, String name, long offset) throws IOException {
        assertServes(address, name, offset, true);
    }

    /** As above; {@code readsBack} false for an export whose reads do not return what was written (null-co). */
    static void assertServes(SocketAddress address, String name, long offset, boolean readsBack) throws IOException {
        try (NbdTestClient c = go(address, name, true)) {
            byte[] data = new byte[4096];
            java.util.Arrays.fill(data, (byte) 0x5a);
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, offset, 4096, data).error(), "health write");
            byte[] back = c.call(Nbd.CMD_READ, 0, offset, 4096, null).data();
            org.junit.jupiter.api.Assertions.assertArrayEquals(readsBack ? data : new byte[4096], back);
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error(), "health flush");
            c.request(Nbd.CMD_DISC, 0, 2, 0, 0, null);
            c.assertClosedByServer();
        }
    }

    /** Closes abruptly (no NBD_CMD_DISC). */
    @Override
    public void close() throws IOException {
        selector.close();
        ch.close();
    }
}
