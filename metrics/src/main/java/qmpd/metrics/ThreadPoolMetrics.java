package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import qmpd.aio.pool.ThreadPool;
import qmpd.aio.pool.ThreadPoolStats;

/**
 * The worker pool of one AioContext (QEMU util/thread-pool.c), read from {@link ThreadPool#stats()}.
 * Tagged {@code iothread=<id>} like its context.
 */
final class ThreadPoolMetrics extends MeterGroup {
    private final String iothread;
    private final ThreadPool pool;

    ThreadPoolMetrics(String iothread, ThreadPool pool) {
        this.iothread = Objects.requireNonNull(iothread, "iothread");
        this.pool = Objects.requireNonNull(pool, "pool");
    }

    @Override
    protected void register(MeterRegistry r) {
        Tags tags = Tags.of("iothread", iothread);
        gauge(r, tags, "qmpd.pool.threads", "Worker threads alive", ThreadPoolStats::threads);
        gauge(r, tags, "qmpd.pool.threads.idle", "Worker threads waiting for work", ThreadPoolStats::idleThreads);
        gauge(r, tags, "qmpd.pool.threads.max", "The pool's thread-pool-max", ThreadPoolStats::maxThreads);
        gauge(r, tags, "qmpd.pool.queue.depth", "Threadlets queued and not yet started", ThreadPoolStats::queueDepth);
        counter(r, tags, "qmpd.pool.submitted", "Threadlets submitted", ThreadPoolStats::submitted);
        counter(r, tags, "qmpd.pool.completed", "Threadlets whose work ran to its end, failed ones included",
                ThreadPoolStats::completed);
        counter(r, tags, "qmpd.pool.failed", "Threadlets whose work threw", ThreadPoolStats::failed);
        counter(r, tags, "qmpd.pool.cancelled", "Threadlets cancelled before they started", ThreadPoolStats::cancelled);
        add(FunctionCounter.builder("qmpd.pool.wait", pool, p -> p.stats().waitNanosTotal() / 1e9)
                .description("Time started threadlets spent queued, from submit to start")
                .baseUnit("seconds").tags(tags).register(r));
    }

    private void gauge(MeterRegistry r, Tags tags, String name, String help, ToDoubleFunction<ThreadPoolStats> f) {
        add(Gauge.builder(name, pool, p -> f.applyAsDouble(p.stats())).description(help).tags(tags).register(r));
    }

    private void counter(MeterRegistry r, Tags tags, String name, String help, ToDoubleFunction<ThreadPoolStats> f) {
        add(FunctionCounter.builder(name, pool, p -> f.applyAsDouble(p.stats()))
                .description(help).tags(tags).register(r));
    }
}
