package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import qmpd.block.export.nbd.NbdExport;
import qmpd.block.export.nbd.NbdRequestCounters;

/**
 * One NBD export, tagged {@code export=<id>} and {@code node=<node-name>}.
 *
 * <p>{@link NbdExport#connectionCount()} belongs to the main loop; a scrape reads it from another
 * thread, which may see a value one change old (an int read cannot tear), never a wrong type.
 * The request counters are the export's {@link NbdRequestCounters}, written by the node's home
 * thread and read here with acquire loads: one series per command, registered up front so that
 * a rate() sees the first request.
 */
final class NbdExportMetrics extends MeterGroup {
    private final NbdExport export;

    NbdExportMetrics(NbdExport export) {
        this.export = Objects.requireNonNull(export, "export");
    }

    @Override
    protected void register(MeterRegistry r) {
        add(Gauge.builder("qmpd.nbd.connections", export, NbdExport::connectionCount)
                .description("NBD clients connected to the export now")
                .tag("export", export.id()).tag("node", export.node().nodeName()).register(r));
        add(FunctionCounter.builder("qmpd.nbd.connections.accepted", export, NbdExport::connectionsAccepted)
                .description("NBD clients that completed a handshake on the export")
                .tag("export", export.id()).tag("node", export.node().nodeName()).register(r));
        add(FunctionCounter.builder("qmpd.nbd.connections.refused", export, NbdExport::connectionsRefused)
                .description("NBD clients dropped because the export was shutting down")
                .tag("export", export.id()).tag("node", export.node().nodeName()).register(r));
        NbdRequestCounters c = export.requestCounters();
        for (int i = 0; i < NbdRequestCounters.COMMANDS.size(); i++) {
            int slot = i;
            String command = NbdRequestCounters.COMMANDS.get(i);
            add(FunctionCounter.builder("qmpd.nbd.requests", c, x -> x.requests(slot))
                    .description("NBD requests the export's clients sent, by command")
                    .tag("export", export.id()).tag("node", export.node().nodeName()).tag("command", command)
                    .register(r));
            add(FunctionCounter.builder("qmpd.nbd.request.errors", c, x -> x.errors(slot))
                    .description("NBD requests answered with an error reply, by command")
                    .tag("export", export.id()).tag("node", export.node().nodeName()).tag("command", command)
                    .register(r));
        }
    }
}
