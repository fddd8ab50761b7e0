package qmpd.metrics;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The smallest NBD client: fixed newstyle handshake with NBD_OPT_EXPORT_NAME, then it stays connected. */
final class NbdClient {
    private NbdClient() {
    }

    static SocketChannel connect(Path socket, String export) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        ByteBuffer greeting = read(ch, 18);   // "NBDMAGIC" "IHAVEOPT" handshake flags
        if (greeting.getLong(0) != 0x4e42444d41474943L) {
            throw new IOException("not an NBD server");
        }
        // client flags: FIXED_NEWSTYLE | NO_ZEROES
        ch.write(ByteBuffer.allocate(4).putInt(0, 3));
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer opt = ByteBuffer.allocate(16 + name.length);
        opt.putLong(0x49484156454F5054L).putInt(1).putInt(name.length).put(name).flip();   // IHAVEOPT, EXPORT_NAME
        while (opt.hasRemaining()) {
            ch.write(opt);
        }
        read(ch, 10);   // export size and transmission flags: the handshake is over
        return ch;
    }

    /** Sends one request header (and {@code payload}, if any); simple replies only. */
    static void request(SocketChannel ch, int type, long handle, long offset, int length, byte[] payload)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(0x25609513).putShort((short) 0).putShort((short) type).putLong(handle).putLong(offset)
                .putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        b.flip();
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads a simple reply header: {error, handle}. */
    static int[] simpleReply(SocketChannel ch) throws IOException {
        ByteBuffer b = read(ch, 16);
        if (b.getInt(0) != 0x67446698) {
            throw new IOException("not a simple reply: 0x" + Integer.toHexString(b.getInt(0)));
        }
        return new int[] {b.getInt(4), (int) b.getLong(8)};
    }

    static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
        return read(ch, n);
    }

    private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("NBD server closed the connection");
            }
        }
        return b.flip();
    }
}
