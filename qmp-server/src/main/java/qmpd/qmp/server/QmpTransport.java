package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/**
 * How one {@link QmpConnection} reaches its client: the bytes it reads and the messages it writes.
 * A monitor socket is a byte stream ({@link SocketTransport}); a WebSocket carries one message per
 * text frame ({@link WebSocketTransport}). Everything above this seam (JSON streaming, the request
 * queue, flow control, dispatch, events) is the same for both.
 *
 * <p>Threading: every method is called on the connection's Vert.x context, and every handler is
 * called there.
 */
interface QmpTransport {
    /**
     * Starts reading.
     *
     * @param input       receives the client's bytes in order
     * @param inputEnded  the client will send nothing more but still reads (a socket's half-close)
     * @param closed      the client is gone; called once
     */
    void start(Handler<Buffer> input, Runnable inputEnded, Runnable closed);

    /** Writes one QMP message (greeting, response or event). */
    Future<Void> send(ObjectNode message);

    /** Stops delivering input (and so stops reading from the client) until {@link #resume()}. */
    void pause();

    void resume();

    /** Closes once what was written has been flushed (the client ended its input and is answered). */
    void end();

    /** Closes now (server shutdown). */
    void close();

    /** A name for logs: the monitor's socket, or the WebSocket's peer. */
    String name();
}
