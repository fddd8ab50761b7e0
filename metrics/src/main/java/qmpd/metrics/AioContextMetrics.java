package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import qmpd.aio.AioContext;
import qmpd.aio.AioStats;

/**
 * The event loop of one IOThread or of the main loop, read from {@link AioContext#stats()} (QEMU
 * keeps no such counters; they answer "is this IOThread busy, polling, or asleep?"). Tagged
 * {@code iothread=<id>}, {@code iothread="main-loop"} for the main loop.
 */
final class AioContextMetrics extends MeterGroup {
    private final String iothread;
    private final AioContext ctx;

    AioContextMetrics(String iothread, AioContext ctx) {
        this.iothread = Objects.requireNonNull(iothread, "iothread");
        this.ctx = Objects.requireNonNull(ctx, "ctx");
    }

    @Override
    protected void register(MeterRegistry r) {
        Tags tags = Tags.of("iothread", iothread);
        counter(r, "qmpd.aio.iterations", "Event loop iterations, nested poll() calls included", tags,
                AioStats::iterations);
        callbacks(r, tags, "bh", "Bottom halves run", AioStats::bhsRun);
        callbacks(r, tags, "fd", "File descriptor handler callbacks run", AioStats::fdEvents);
        callbacks(r, tags, "notifier", "Event notifier callbacks run", AioStats::notifierEvents);
        callbacks(r, tags, "timer", "Timer callbacks run", AioStats::timersFired);
        counter(r, "qmpd.aio.callback.errors", "Callbacks that threw an exception", tags, AioStats::callbackErrors);
        counter(r, "qmpd.aio.poll.hits", "Busy-poll windows that found work without a system call", tags,
                AioStats::pollHits);
        time(r, tags, "busy_poll", AioStats::busyPollNs);
        time(r, tags, "blocked", AioStats::blockedNs);
        time(r, tags, "dispatch", AioStats::dispatchNs);
        add(TimeGauge.builder("qmpd.aio.poll.window", ctx, TimeUnit.NANOSECONDS, c -> c.stats().pollWindowNs())
                .description("The current adaptive busy-poll window").tags(tags).register(r));
    }

    private void counter(MeterRegistry r, String name, String help, Tags tags, ToLongFunction<AioStats> f) {
        add(FunctionCounter.builder(name, ctx, c -> f.applyAsLong(c.stats()))
                .description(help).tags(tags).register(r));
    }

    private void callbacks(MeterRegistry r, Tags tags, String kind, String help, ToLongFunction<AioStats> f) {
        // One family with a kind tag: the sum over kinds is the loop's total callback rate.
        add(FunctionCounter.builder("qmpd.aio.callbacks", ctx, c -> f.applyAsLong(c.stats()))
                .description("Callbacks run by the event loop, by kind (bh, fd, notifier, timer)")
                .tags(tags).tag("kind", kind).register(r));
    }

    private void time(MeterRegistry r, Tags tags, String state, ToLongFunction<AioStats> nanos) {
        // One family with a state tag: busy_poll + blocked + dispatch is the loop's wall time.
        add(FunctionCounter.builder("qmpd.aio.time", ctx, c -> nanos.applyAsLong(c.stats()) / 1e9)
                .description("Time the event loop spent busy-polling, blocked in epoll_wait, or dispatching")
                .baseUnit("seconds").tags(tags).tag("state", state).register(r));
    }
}
