package qmpd.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import qmpd.aio.annotation.AnyThread;
import qmpd.block.BlockNode;
import qmpd.block.BlockStats;

/**
 * {@code qmpd_block_latency_seconds}: the latency distribution of successful reads, writes and
 * flushes per node, a Prometheus histogram built at scrape time from the buckets
 * {@link BlockStats} keeps on the I/O path (10 µs to 10 s). Micrometer has no meter that reads
 * an existing histogram, so this is a collector of the Prometheus registry underneath it.
 * Labels: {@code node}, {@code iothread} (the node's context now), {@code op}.
 */
final class BlockLatencyCollector implements Collector {
    static final String NAME = "qmpd_block_latency_seconds";
    private static final List<BlockStats.Kind> KINDS = List.of(BlockStats.Kind.READ, BlockStats.Kind.WRITE,
            BlockStats.Kind.FLUSH);

    /** Bound nodes by name; bind/unbind from the main loop, read by scrapes. */
    private final Map<String, BlockNode> nodes = new ConcurrentHashMap<>();

    @AnyThread
    void add(BlockNode node) {
        nodes.put(node.nodeName(), node);
    }

    @AnyThread
    void remove(String nodeName) {
        nodes.remove(nodeName);
    }

    @Override
    public MetricSnapshot collect() {
        HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(NAME)
                .help("Latency of successful requests, by node and operation");
        for (BlockNode n : nodes.values()) {
            BlockStats s = n.stats();
            for (BlockStats.Kind k : KINDS) {
                ClassicHistogramBuckets.Builder b = ClassicHistogramBuckets.builder();
                long count = 0;
                for (int i = 0; i < BlockStats.LATENCY_BUCKETS; i++) {
                    long c = s.latencyCount(k, i);
                    count += c;
                    b.bucket(BlockStats.latencyBoundSeconds(i), c);
                }
                h.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .labels(Labels.of("iothread", n.context().name(), "node", n.nodeName(),
                                "op", k.name().toLowerCase(Locale.ROOT)))
                        .classicHistogramBuckets(b.build())
                        // The sum from the buckets' own requests: reading totalTime separately could
                        // include a request the buckets do not yet show.
                        .sum(count == 0 ? 0 : s.totalTimeNs(k) / 1e9)
                        .build());
            }
        }
        return h.build();
    }

    @Override
    public String getPrometheusName() {
        return NAME;
    }
}
