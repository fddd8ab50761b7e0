package qmpd.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.json.QmpJsonWriter;

/**
 * {@code GET /api/v1/events}: QMP events as Server-Sent Events, one {@code data:} line per event
 * carrying the same object a QMP client receives. Like QMP, events are not replayed: a subscriber
 * gets those emitted after the stream opened (the first bytes, a {@code : subscribed} comment, are
 * written after the listener is registered, so a client that has read them misses nothing).
 *
 * <p>Threading: built and closed on the gateway's loop; {@link #deliver} runs on whatever thread
 * emits and hops to the loop. A client too slow to keep up (full write queue) is disconnected
 * rather than buffered without bound.
 */
final class EventStream implements QmpEvents.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(EventStream.class);
    private static final long HEARTBEAT_MS = 30_000;

    private final HttpServerResponse rsp;
    private final Context loop;
    private final Vertx vertx;
    private final Runnable onClose;
    private Runnable unlisten = () -> { };   // loop only
    private long heartbeat = -1;             // loop only
    private volatile boolean open = true;

    EventStream(HttpServerResponse rsp, Context loop, Vertx vertx, Runnable onClose) {
        this.rsp = rsp;
        this.loop = loop;
        this.vertx = vertx;
        this.onClose = onClose;
    }

    /** Starts the stream; events flow until the client leaves or {@link #close()}. */
    void start(QmpEvents events) {
        rsp.setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache");
        rsp.closeHandler(v -> closed());
        unlisten = events.listen(this);
        // Periodic comments let proxies keep the stream open and reveal dead clients.
        heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> write(": keep-alive\n\n"));
        write(": subscribed\n\n");
    }

    @Override
    public boolean acceptsEvents() {
        return open;
    }

    @Override
    public void deliver(ObjectNode event) {
        String text = "data: " + QmpJsonWriter.write(event, false) + "\n\n";
        loop.runOnContext(v -> write(text));
    }

    private void write(String text) {
        if (!open) {
            return;
        }
        if (rsp.writeQueueFull()) {
            LOG.warn("event=sse-client-too-slow action=disconnect");
            close();
            return;
        }
        rsp.write(text);
    }

    /** Ends the stream from the server side (gateway stop); loop only. */
    void close() {
        if (open) {
            rsp.end();
            closed();
        }
    }

    private void closed() {
        if (!open) {
            return;
        }
        open = false;
        unlisten.run();
        vertx.cancelTimer(heartbeat);
        onClose.run();
    }
}
