package qmpd.reliability;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import qmpd.block.export.nbd.Nbd;

/**
 * A minimal NBD client over a real socket for the reliability harnesses: fixed-newstyle handshake
 * with NBD_OPT_GO, simple replies, pipelined requests. Requests may be sent from one thread while
 * another reads replies ({@link #send} is synchronized; {@link #reply} must be called by one
 * thread at a time). Blocking I/O: a stuck server is caught by the test's timeout, which
 * interrupts the thread and so closes the channel.
 *
 * <p>{@link #raw()} gives the socket itself, for tests that cut a message short on purpose.
 */
final class NbdWire implements AutoCloseable {
    /** One simple reply; {@code data} is the payload of a read, else null. */
    record Reply(long handle, int error, byte[] data) {
    }

    private final SocketChannel ch;
    private final Map<Long, Integer> readLengths = new ConcurrentHashMap<>();
    private long size;
    private int flags;

    private NbdWire(SocketChannel ch) {
        this.ch = ch;
    }

    /** Connects without sending anything. */
    static NbdWire connect(SocketAddress address) throws IOException {
        SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        ch.connect(address);
        return new NbdWire(ch);
    }

    static SocketAddress tcp(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** Connects and completes the handshake for export {@code name}. */
    static NbdWire open(SocketAddress address, String name) throws IOException {
        NbdWire w = connect(address);
        try {
            w.handshake(name);
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    private void handshake(String name) throws IOException {
        ByteBuffer g = read(18);
        expect(g.getLong() == Nbd.NBDMAGIC && g.getLong() == Nbd.IHAVEOPT, "greeting");
        write(ByteBuffer.allocate(4).putInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES).flip());
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        write(ByteBuffer.allocate(16 + 4 + n.length + 2).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO)
                .putInt(4 + n.length + 2).putInt(n.length).put(n).putShort((short) 0).flip());
        while (true) {
            ByteBuffer h = read(20);
            expect(h.getLong() == Nbd.OPTION_REPLY_MAGIC, "option reply magic");
            h.getInt();
            int type = h.getInt();
            int len = h.getInt();
            ByteBuffer data = read(len);
            if (type == Nbd.REP_ACK) {
                return;
            }
            expect(type == Nbd.REP_INFO, "NBD_OPT_GO refused: type " + Integer.toHexString(type) + " "
                    + StandardCharsets.UTF_8.decode(data.duplicate()));
            if (len >= 12 && data.getShort(0) == Nbd.INFO_EXPORT) {
                data.getShort();
                size = data.getLong();
                flags = data.getShort() & 0xffff;
            }
        }
    }

    long size() {
        return size;
    }

    int flags() {
        return flags;
    }

    SocketChannel raw() {
        return ch;
    }

    /** Sends one request header (and the data of a write). */
    synchronized void send(int type, int cmdFlags, long handle, long offset, int length, byte[] data)
            throws IOException {
        if (type == Nbd.CMD_READ) {
            readLengths.put(handle, length);
        }
        ByteBuffer b = ByteBuffer.allocate(28 + (data == null ? 0 : data.length)).putInt(Nbd.REQUEST_MAGIC)
                .putShort((short) cmdFlags).putShort((short) type).putLong(handle).putLong(offset).putInt(length);
        if (data != null) {
            b.put(data);
        }
        write(b.flip());
    }

    void write(long handle, long offset, byte[] data, boolean fua) throws IOException {
        send(Nbd.CMD_WRITE, fua ? Nbd.CMD_FLAG_FUA : 0, handle, offset, data.length, data);
    }

    void read(long handle, long offset, int length) throws IOException {
        send(Nbd.CMD_READ, 0, handle, offset, length, null);
    }

    void flush(long handle) throws IOException {
        send(Nbd.CMD_FLUSH, 0, handle, 0, 0, null);
    }

    /** Asks the server to end the session (NBD_CMD_DISC); no reply comes. */
    void disconnect() throws IOException {
        send(Nbd.CMD_DISC, 0, 0, 0, 0, null);
    }

    /** The next reply; a read's payload is read when it succeeded. */
    Reply reply() throws IOException {
        ByteBuffer h = read(16);
        expect(h.getInt() == Nbd.SIMPLE_REPLY_MAGIC, "simple reply magic");
        int error = h.getInt();
        long handle = h.getLong();
        Integer len = readLengths.remove(handle);
        byte[] data = null;
        if (len != null && error == 0) {
            data = new byte[len];
            read(ByteBuffer.wrap(data));
        }
        return new Reply(handle, error, data);
    }

    /** A synchronous read of {@code length} bytes at {@code offset}; fails on an error reply. */
    byte[] readNow(long offset, int length) throws IOException {
        read(offset, offset, length);
        Reply r = reply();
        expect(r.handle() == offset && r.error() == 0, "read at " + offset + ": error " + r.error());
        return r.data();
    }

    /** Closes with a TCP RST instead of a FIN (SO_LINGER 0); a UNIX socket just closes. */
    void reset() throws IOException {
        if (!(ch.getRemoteAddress() instanceof UnixDomainSocketAddress)) {
            ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        ch.close();
    }

    private ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        read(b);
        return b.flip();
    }

    private void read(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("server closed the connection");
            }
        }
    }

    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void expect(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException("NBD protocol: unexpected " + what);
        }
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
