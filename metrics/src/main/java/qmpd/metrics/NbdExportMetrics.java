package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import qmpd.block.export.nbd.NbdExport;

/**
 * One NBD export, tagged {@code export=<id>} and {@code node=<node-name>}.
 *
 * <p>{@link NbdExport#connectionCount()} belongs to the main loop; a scrape reads it from another
 * thread, which may see a value one change old (an int read cannot tear), never a wrong type.
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
    }
}
