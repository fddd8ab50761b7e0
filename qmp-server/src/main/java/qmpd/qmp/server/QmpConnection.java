package qmpd.qmp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.json.JsonStreamer;

/**
 * One QMP client, from greeting to close (QEMU monitor/qmp.c): a monitor socket's client, or a
 * WebSocket's; the {@link QmpTransport} is the only difference. Input is fed to the
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
    static final int QUEUE_MAX = 8;

    /** A queued in-band item: a parsed value, or the parse error that replaced it. */
    private record Pending(JsonNode request, String parseError) {
    }

    private final QmpServer server;
    private final QmpTransport transport;
    private final Context context;
    /** Told once when the client is gone (the monitor serves its next client). */
    private final Consumer<QmpConnection> onClosed;
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

    QmpConnection(QmpServer server, QmpTransport transport, Context context, Consumer<QmpConnection> onClosed) {
        this.server = server;
        this.transport = transport;
        this.context = context;
        this.onClosed = onClosed;
    }

    /** Greets the client and starts reading (the transport was paused until now). */
    void start(ObjectNode greeting) {
        transport.start(this::onData, this::onInputEnded, this::onClose);
        unlisten = server.events().listen(this);
        send(greeting);
        transport.resume();
    }

    private void onInputEnded() {
        inputEnded = true;
        closeIfDone();
    }

    /** After the client's EOF: close once every request it sent has been answered. */
    private void closeIfDone() {
        if (inputEnded && !closed && !busy && !suspended && queue.isEmpty() && (input == null || inputPos >= input.length())) {
            transport.end();   // flushes the replies already written, then closes
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
            transport.pause();
        }
    }

    private void resume() {
        if (suspended) {
            suspended = false;
            transport.resume();
            // Runs later so a long pipeline never recurses through reply -> resume -> feed.
            context.runOnContext(v -> pump());
        }
    }

    /** The streamer's sink: QEMU's {@code handle_qmp_command}. */
    private void onValue(JsonNode value, String error) {
        if (value != null && QmpDispatcher.isOob(value)) {
            RequestContext rc = new RequestContext();
            server.dispatcher().dispatch(value, rc, oobEnabled)
                    .whenComplete((rsp, e) -> context.runOnContext(v -> {
                        io.vertx.core.Future<Void> written = send(rsp);
                        if (rc.shutdownRequested) {
                            written.onComplete(ar -> server.fireShutdown());
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
                : server.dispatcher().dispatch(next.request, rc, oobEnabled);
        response.whenComplete((rsp, e) -> context.runOnContext(v -> finish(rsp, oobAtStart, rc)));
    }

    private void finish(ObjectNode rsp, boolean oobAtStart, RequestContext rc) {
        busy = false;
        io.vertx.core.Future<Void> written = send(rsp);
        if (rc.shutdownRequested) {
            // quit: the reply goes out first, then the owner's hook stops the daemon.
            written.onComplete(ar -> server.fireShutdown());
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
            return server.events();
        }

        @Override
        public CommandRegistry registry() {
            return server.registry();
        }

        @Override
        public void requestShutdown() {
            shutdownRequested = true;
        }
    }

    /** Writes one message in the transport's format. */
    io.vertx.core.Future<Void> send(ObjectNode message) {
        if (closed || message == null) {
            return io.vertx.core.Future.succeededFuture();
        }
        return transport.send(message);
    }

    /** Closes the connection from the server side (shutdown). */
    void close() {
        context.runOnContext(v -> transport.close());
    }

    /** QEMU's CHR_EVENT_CLOSED: queued requests are dropped, a running one finishes unheard. */
    private void onClose() {
        closed = true;
        queue.clear();
        input = null;
        unlisten.run();
        onClosed.accept(this);
    }
}
