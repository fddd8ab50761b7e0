package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The QMP server's counters. Series for a command appear with its first request: {@link #refresh}
 * registers the ones created since the last scrape, so the dispatcher never calls Micrometer.
 */
final class QmpMetrics extends MeterGroup {
    private final QmpCounters counters;
    private final Set<QmpCounters.CommandSeries> seen = new HashSet<>();   // @protectedby QmpdMetrics.lock
    private MeterRegistry registry;                                          // @protectedby QmpdMetrics.lock

    QmpMetrics(QmpCounters counters) {
        this.counters = Objects.requireNonNull(counters, "counters");
    }

    @Override
    protected void register(MeterRegistry r) {
        this.registry = r;
        add(Gauge.builder("qmpd.qmp.monitors", counters, QmpCounters::monitorsListening)
                .description("QMP monitors listening").register(r));
        add(Gauge.builder("qmpd.qmp.clients", counters, QmpCounters::clientsConnected)
                .description("Clients connected to QMP monitors").register(r));
        add(FunctionCounter.builder("qmpd.qmp.events", counters, QmpCounters::eventsEmitted)
                .description("QMP events emitted").register(r));
        seen.clear();
        refresh();
    }

    /** Registers meters for series created since the last call. */
    void refresh() {
        for (QmpCounters.CommandSeries s : counters.commandSeries()) {
            if (!seen.add(s)) {
                continue;
            }
            add(FunctionCounter.builder("qmpd.qmp.commands", s, QmpCounters.CommandSeries::count)
                    .description("QMP commands dispatched, by command and outcome (ok or error class)")
                    .tag("command", s.command()).tag("outcome", s.outcome()).register(registry));
            add(FunctionTimer.builder("qmpd.qmp.command.duration", s, QmpCounters.CommandSeries::count,
                            QmpCounters.CommandSeries::totalNanos, TimeUnit.NANOSECONDS)
                    .description("Time from dispatch to response of QMP commands, by command and outcome")
                    .tag("command", s.command()).tag("outcome", s.outcome()).register(registry));
        }
    }
}
