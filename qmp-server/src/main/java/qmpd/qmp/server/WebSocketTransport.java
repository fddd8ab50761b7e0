package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.qmp.json.QmpJsonWriter;

/**
 * QMP over a WebSocket: every message the server writes is one text frame holding one JSON object
 * (no line ending). The payload of the client's text frames is fed to the connection's JSON
 * streamer in order, exactly like a socket's bytes, so a bad value gets the error a socket client
 * gets and the session goes on. A binary frame is not QMP: the WebSocket is closed with status 1003
 * (unsupported data). A message (a text frame and its continuations) longer than the limit closes
 * it with 1009 (message too big) and that reason, before the excess reaches the streamer.
 *
 * <p>Threading: the WebSocket's Vert.x context (the HTTP gateway's loop).
 */
final class WebSocketTransport implements QmpTransport {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTransport.class);
    /** RFC 6455 7.4.1: the endpoint received data of a type it cannot accept. */
    static final short UNSUPPORTED_DATA = 1003;
    /** RFC 6455 7.4.1: a message too big to process. */
    static final short MESSAGE_TOO_BIG = 1009;

    private final ServerWebSocket ws;
    private final String name;
    private final long maxMessage;
    /** Bytes of the current text message so far. */
    private long messageBytes;
    /** A binary message has started and not finished: its continuation frames are refused too. */
    private boolean inBinaryMessage;

    /** @param maxMessage the longest text message accepted, in bytes */
    WebSocketTransport(ServerWebSocket ws, long maxMessage) {
        this.ws = ws;
        this.maxMessage = maxMessage;
        this.name = "websocket " + ws.remoteAddress();
    }

    @Override
    public void start(Handler<Buffer> input, Runnable inputEnded, Runnable closed) {
        ws.frameHandler(frame -> onFrame(frame, input));
        ws.closeHandler(v -> closed.run());
        ws.exceptionHandler(e -> LOG.debug("event=websocket-error client={} error={}", name, e.toString()));
    }

    private void onFrame(WebSocketFrame frame, Handler<Buffer> input) {
        if (frame.isBinary() || (frame.isContinuation() && inBinaryMessage)) {
            inBinaryMessage = !frame.isFinal();
            LOG.debug("event=websocket-binary-refused client={}", name);
            ws.close(UNSUPPORTED_DATA, "QMP messages are JSON text: send text frames");
        } else if (frame.isText() || frame.isContinuation()) {
            messageBytes = (frame.isText() ? 0 : messageBytes) + frame.binaryData().length();
            if (messageBytes > maxMessage) {
                LOG.debug("event=websocket-message-too-big client={} bytes={}", name, messageBytes);
                ws.close(MESSAGE_TOO_BIG, "QMP message larger than " + maxMessage + " bytes");
                return;
            }
            input.handle(frame.binaryData());
        }
        // Ping, pong and close frames are Vert.x's business.
    }

    @Override
    public Future<Void> send(ObjectNode message) {
        return ws.writeTextMessage(QmpJsonWriter.write(message, false));
    }

    @Override
    public void pause() {
        ws.pause();
    }

    @Override
    public void resume() {
        ws.resume();
    }

    @Override
    public void end() {
        ws.close();   // a close frame follows what was written
    }

    @Override
    public void close() {
        ws.close();
    }

    @Override
    public String name() {
        return name;
    }
}
