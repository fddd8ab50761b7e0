package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.qmp.json.QmpJsonWriter;

/**
 * A monitor's UNIX or TCP socket: a byte stream in, QEMU's line format out (each message ends with
 * a newline, and every newline is CRLF).
 *
 * <p>Threading: the monitor's Vert.x context, like the socket.
 */
final class SocketTransport implements QmpTransport {
    private static final Logger LOG = LoggerFactory.getLogger(SocketTransport.class);

    private final NetSocket socket;
    private final boolean pretty;
    private final String name;

    SocketTransport(NetSocket socket, boolean pretty, String name) {
        this.socket = socket;
        this.pretty = pretty;
        this.name = name;
    }

    @Override
    public void start(Handler<Buffer> input, Runnable inputEnded, Runnable closed) {
        socket.handler(input);
        socket.closeHandler(v -> closed.run());
        allowHalfClose(inputEnded);
        socket.exceptionHandler(e -> LOG.debug("event=socket-error monitor={} error={}", name, e.toString()));
    }

    /**
     * A client may send its commands and shut down its writing side ({@code printf ... | socat -
     * UNIX-CONNECT:...}); QEMU still answers them, then closes. Netty closes at once on EOF unless
     * half-closure is allowed, and Vert.x exposes neither the option nor the input-shutdown event
     * publicly, hence its internal socket interface (the event arrives on this connection's context).
     * Netty's NIO transport honours half-closure for TCP only: a UNIX socket client that shuts
     * down its writing side is still closed at once, so on UNIX sockets clients keep their
     * writing side open until they have their replies (socat: keep stdin open).
     */
    private void allowHalfClose(Runnable inputEnded) {
        if (socket instanceof io.vertx.core.internal.net.NetSocketInternal internal) {
            internal.channelHandlerContext().channel().config()
                    .setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
            internal.eventHandler(evt -> {
                if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                    inputEnded.run();
                }
            });
        }
    }

    @Override
    public Future<Void> send(ObjectNode message) {
        String text = QmpJsonWriter.write(message, pretty);
        // Compact output has no newline of its own (strings carry \n escaped): only the end needs CRLF.
        text = pretty ? (text + "\n").replace("\n", "\r\n") : text + "\r\n";
        return socket.write(Buffer.buffer(text.getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    public void pause() {
        socket.pause();
    }

    @Override
    public void resume() {
        socket.resume();
    }

    @Override
    public void end() {
        socket.end();   // flushes the replies already written, then closes
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String name() {
        return name;
    }
}
