package qmpd.qmp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.json.JsonStreamer;
import qmpd.qmp.json.QmpJsonWriter;

/**
 * One client of one monitor, from greeting to close (QEMU monitor/qmp.c). Input is fed to the
 * JSON streamer byte by byte so the connection can stop reading exactly at the end of a request,
 * as QEMU's one-byte reads do:
 * <ul>
 *   <li>in-band requests (and parse errors, which keep their place) go to a FIFO; one at a time is
 *       dispatched, and its reply is written before the next starts;</li>
 *   <li>without OOB, reading stops after each queued request until it is answered; with OOB, up to
 *       {@value #QUEUE_MAX} may wait, then reading stops until one is taken (QEMU's
 *       QMP_REQ_QUEUE_LEN_MAX; nothing is ever dropped, no COMMAND_DROPPED);</li>
 *   <li>{@code exec-oob} requests run at once on this I/O thread, overtaking queued ones.</li>
 * </ul>
 *
 * <p>Threading: every method but the {@link QmpContext.Session} getters and {@link #deliver} runs
 * on the connection's Vert.x context.
 */
final class QmpConnection implements QmpContext.Session, QmpEvents.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(QmpConnection.class);
    static final int QUEUE_MAX = 8;

    /** A queued in-band item: a parsed value, or the parse error that replaced it. */
    private record Pending(JsonNode request, String parseError) {
    }

    private final Monitor monitor;
    private final NetSocket socket;
    private final Context context;
    private final JsonStreamer streamer = new JsonStreamer(this::onValue);
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private Runnable unlisten = () -> { };
    private Buffer input;
    private int inputPos;
    private boolean suspended;
    private boolean busy;
    private volatile boolean closed;
    private volatile boolean negotiated;
    private volatile boolean oobEnabled;
    /** The client shut down its writing side; context thread only. */
    private boolean inputEnded;

    QmpConnection(Monitor monitor, NetSocket socket, Context context) {
        this.monitor = monitor;
        this.socket = socket;
        this.context = context;
    }

    /** Greets the client and starts reading. */
    void start(ObjectNode greeting) {
        socket.handler(this::onData);
        socket.closeHandler(v -> onClose());
        allowHalfClose();
        socket.exceptionHandler(e -> LOG.debug("event=socket-error monitor={} error={}", monitor.id(), e.toString()));
        unlisten = monitor.server().events().listen(this);
        send(greeting);
        socket.resume();
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
    private void allowHalfClose() {
        if (socket instanceof io.vertx.core.internal.net.NetSocketInternal internal) {
            internal.channelHandlerContext().channel().config()
                    .setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
            internal.eventHandler(evt -> {
                if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                    inputEnded = true;
                    closeIfDone();
                }
            });
        }
    }

    /** After the client's EOF: close once every request it sent has been answered. */
    private void closeIfDone() {
        if (inputEnded && !closed && !busy && !suspended && queue.isEmpty() && (input == null || inputPos >= input.length())) {
            socket.end();   // flushes the replies already written, then closes
        }
    }

    @Override
    public Set<String> offeredCapabilities() {
        return Set.of("oob");
    }

    @Override
    public boolean negotiated() {
        return negotiated;
    }

    @Override
    public void completeNegotiation(Set<String> enabled) {
        oobEnabled = enabled.contains("oob");
        negotiated = true;
    }

    @Override
    public boolean acceptsEvents() {
        return negotiated && !closed;
    }

    @Override
    public void deliver(ObjectNode event) {
        context.runOnContext(v -> send(event));
    }

    private void onData(Buffer data) {
        if (input == null || inputPos >= input.length()) {
            input = data;
        } else {
            input = input.getBuffer(inputPos, input.length()).appendBuffer(data);
        }
        inputPos = 0;
        pump();
    }

    /** Feeds input until it runs out or a full queue suspends the connection. */
    private void pump() {
        while (!suspended && !closed && input != null && inputPos < input.length()) {
            streamer.feed(input.getByte(inputPos++));
        }
        if (input != null && inputPos >= input.length()) {
            input = null;
        }
        closeIfDone();
    }

    private void suspend() {
        if (!suspended) {
            suspended = true;
            socket.pause();
        }
    }

    private void resume() {
        if (suspended) {
            suspended = false;
            socket.resume();
            // Runs later so a long pipeline never recurses through reply -> resume -> feed.
            context.runOnContext(v -> pump());
        }
    }

    /** The streamer's sink: QEMU's {@code handle_qmp_command}. */
    private void onValue(JsonNode value, String error) {
        if (value != null && QmpDispatcher.isOob(value)) {
            RequestContext rc = new RequestContext();
            monitor.server().dispatcher().dispatch(value, rc, oobEnabled)
                    .whenComplete((rsp, e) -> context.runOnContext(v -> {
                        io.vertx.core.Future<Void> written = send(rsp);
                        if (rc.shutdownRequested) {
                            written.onComplete(ar -> monitor.server().fireShutdown());
                        }
                    }));
            return;
        }
        if (!oobEnabled || queue.size() == QUEUE_MAX - 1) {
            suspend();
        }
        queue.add(new Pending(value, error));
        kick();
    }

    /** Starts the next queued request unless one is running (QEMU's dispatcher coroutine). */
    private void kick() {
        if (busy || closed || queue.isEmpty()) {
            return;
        }
        Pending next = queue.poll();
        busy = true;
        boolean oobAtStart = oobEnabled;
        if (oobAtStart && queue.size() == QUEUE_MAX - 1) {
            resume();
        }
        RequestContext rc = new RequestContext();
        CompletionStage<ObjectNode> response = next.parseError != null
                ? java.util.concurrent.CompletableFuture.completedFuture(
                        QmpDispatcher.errorResponse(null, "GenericError", next.parseError))
                : monitor.server().dispatcher().dispatch(next.request, rc, oobEnabled);
        response.whenComplete((rsp, e) -> context.runOnContext(v -> finish(rsp, oobAtStart, rc)));
    }

    private void finish(ObjectNode rsp, boolean oobAtStart, RequestContext rc) {
        busy = false;
        io.vertx.core.Future<Void> written = send(rsp);
        if (rc.shutdownRequested) {
            // quit: the reply goes out first, then the owner's hook stops the daemon.
            written.onComplete(ar -> monitor.server().fireShutdown());
            return;
        }
        if (!oobAtStart) {
            resume();
        }
        kick();
        closeIfDone();
    }

    /** The per-request view a command gets; remembers whether it asked for shutdown. */
    private final class RequestContext implements QmpContext {
        private volatile boolean shutdownRequested;

        @Override
        public Session session() {
            return QmpConnection.this;
        }

        @Override
        public QmpEvents events() {
            return monitor.server().events();
        }

        @Override
        public CommandRegistry registry() {
            return monitor.server().registry();
        }

        @Override
        public void requestShutdown() {
            shutdownRequested = true;
        }
    }

    /** Writes one message; QEMU ends each with a newline and turns every newline into CRLF. */
    io.vertx.core.Future<Void> send(ObjectNode message) {
        if (closed || message == null) {
            return io.vertx.core.Future.succeededFuture();
        }
        boolean pretty = monitor.options().pretty();
        String text = QmpJsonWriter.write(message, pretty);
        // Compact output has no newline of its own (strings carry \n escaped): only the end needs CRLF.
        text = pretty ? (text + "\n").replace("\n", "\r\n") : text + "\r\n";
        return socket.write(Buffer.buffer(text.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Closes the connection from the server side (shutdown). */
    void close() {
        context.runOnContext(v -> socket.close());
    }

    /** QEMU's CHR_EVENT_CLOSED: queued requests are dropped, a running one finishes unheard. */
    private void onClose() {
        closed = true;
        queue.clear();
        input = null;
        unlisten.run();
        monitor.connectionClosed(this);
    }
}
