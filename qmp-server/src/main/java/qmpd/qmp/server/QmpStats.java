package qmpd.qmp.server;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import qmpd.metrics.QmpCounters;
import qmpd.qmp.QmpEvents;

/**
 * The QMP server's own counters, read by the metrics module through {@link QmpCounters}; nothing
 * here knows Micrometer. Written by the dispatcher (any thread that completes a command) and the
 * monitors' event loops; read by any thread.
 */
public final class QmpStats implements QmpCounters {
    private record Key(String command, String outcome) {
    }

    /** One series; LongAdders because commands of several monitors complete concurrently. */
    private static final class Series implements CommandSeries {
        private final Key key;
        private final LongAdder count = new LongAdder();
        private final LongAdder nanos = new LongAdder();

        Series(Key key) {
            this.key = key;
        }

        @Override
        public String command() {
            return key.command();
        }

        @Override
        public String outcome() {
            return key.outcome();
        }

        @Override
        public long count() {
            return count.sum();
        }

        @Override
        public long totalNanos() {
            return nanos.sum();
        }
    }

    // Keys are bounded: registered command names (others count as "unknown") times outcomes.
    private final Map<Key, Series> series = new ConcurrentHashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final QmpEvents events;
    private final java.util.function.IntSupplier monitors;

    /** @param monitors how many monitors listen now (read from any thread) */
    QmpStats(QmpEvents events, java.util.function.IntSupplier monitors) {
        this.events = events;
        this.monitors = monitors;
    }

    void commandDone(String command, String outcome, long nanos) {
        Series s = series.computeIfAbsent(new Key(command, outcome), Series::new);
        s.count.increment();
        s.nanos.add(nanos);
    }

    void clientConnected() {
        clients.incrementAndGet();
    }

    void clientDisconnected() {
        clients.decrementAndGet();
    }

    @Override
    public List<CommandSeries> commandSeries() {
        return List.copyOf(series.values());
    }

    @Override
    public int monitorsListening() {
        return monitors.getAsInt();
    }

    @Override
    public int clientsConnected() {
        return clients.get();
    }

    @Override
    public long eventsEmitted() {
        return events.emittedCount();
    }
}
