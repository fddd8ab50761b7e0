package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import qmpd.block.BlockNode;
import qmpd.block.BlockStats;

/**
 * One block node's I/O accounting (QEMU's BlockAcctStats, what query-blockstats reports), read from
 * {@link BlockNode#stats()}. Tagged {@code node=<node-name>}, {@code iothread=<context name>} and
 * {@code op=read|write|flush|zero|discard}; the iothread tag is fixed at bind time, so the owner
 * binds the node again after it moves (QmpdMetrics does that through a context listener).
 */
final class BlockNodeMetrics extends MeterGroup {
    private final BlockNode node;
    private final String iothread;

    BlockNodeMetrics(BlockNode node, String iothread) {
        this.node = Objects.requireNonNull(node, "node");
        this.iothread = Objects.requireNonNull(iothread, "iothread");
    }

    @Override
    protected void register(MeterRegistry r) {
        Tags tags = Tags.of("node", node.nodeName(), "iothread", iothread);
        for (BlockStats.Kind k : BlockStats.Kind.values()) {
            Tags t = tags.and("op", k.name().toLowerCase(Locale.ROOT));
            counter(r, t, "qmpd.block.operations", null, "Requests completed successfully, by operation",
                    s -> s.ops(k));
            counter(r, t, "qmpd.block.bytes", "bytes", "Bytes transferred by successful requests, by operation",
                    s -> s.bytes(k));
            counter(r, t, "qmpd.block.failed", null, "Requests that failed, by operation", s -> s.failed(k));
            counter(r, t, "qmpd.block.invalid", null, "Requests refused before reaching the driver, by operation",
                    s -> s.invalid(k));
            counter(r, t, "qmpd.block.time", "seconds", "Time spent in successful requests, by operation",
                    s -> s.totalTimeNs(k) / 1e9);
        }
        add(Gauge.builder("qmpd.block.in.flight", node, BlockNode::inFlight)
                .description("Requests accepted by the driver and not yet completed").tags(tags).register(r));
    }

    private void counter(MeterRegistry r, Tags tags, String name, String unit, String help,
                         ToDoubleFunction<BlockStats> f) {
        add(FunctionCounter.builder(name, node, n -> f.applyAsDouble(n.stats()))
                .description(help).baseUnit(unit).tags(tags).register(r));
    }
}
