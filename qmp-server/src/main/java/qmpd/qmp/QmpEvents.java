package qmpd.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import qmpd.aio.annotation.AnyThread;
import qmpd.config.json.Json;

/**
 * Asynchronous QMP events (QEMU monitor/monitor.c {@code monitor_qapi_event_emit}): each event is
 * stamped with the wall clock and written to every client that has finished capabilities
 * negotiation, on every monitor. Clients still negotiating, or nobody connected, simply miss it:
 * events are never queued or replayed.
 */
public final class QmpEvents {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Something that receives events: a negotiated monitor connection (or a test probe). */
    public interface Listener {
        /** Whether the listener takes events now (negotiation complete). */
        boolean acceptsEvents();

        /** Hands over the serialisable event; must not block. */
        void deliver(ObjectNode event);
    }

    private final Set<Listener> listeners = new CopyOnWriteArraySet<>();
    private final java.util.concurrent.atomic.LongAdder emitted = new java.util.concurrent.atomic.LongAdder();

    /**
     * Emits {@code name} with {@code data} (a record, a JsonNode, or null for no {@code data}
     * member, as QEMU omits it) to every negotiated client. Delivery order between two emits from
     * the same thread is preserved per client.
     */
    @AnyThread
    public void emit(String name, Object data) {
        ObjectNode event = NODES.objectNode();
        Instant now = Instant.now();
        ObjectNode ts = event.putObject("timestamp");
        ts.put("seconds", now.getEpochSecond());
        ts.put("microseconds", now.getNano() / 1000);
        event.put("event", name);
        if (data != null) {
            event.set("data", data instanceof JsonNode n ? n : Json.mapper().valueToTree(data));
        }
        emitted.increment();
        for (Listener l : listeners) {
            if (l.acceptsEvents()) {
                l.deliver(event);
            }
        }
    }

    /** Events emitted so far, each counted once however many listeners got it (for metrics). */
    @AnyThread
    public long emittedCount() {
        return emitted.sum();
    }

    /** Registers a listener until the returned handle is run. */
    @AnyThread
    public Runnable listen(Listener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** A listener for tests and in-process users: receives every event. */
    @AnyThread
    public Runnable listen(Consumer<ObjectNode> consumer) {
        return listen(new Listener() {
            @Override
            public boolean acceptsEvents() {
                return true;
            }

            @Override
            public void deliver(ObjectNode event) {
                consumer.accept(event);
            }
        });
    }
}
