package qmpd.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.List;

/**
 * A MeterBinder that remembers the meters it registered, so that the meters of one object (an
 * IOThread, a node, an export) can be removed together when the object goes away.
 *
 * <p>Threading: {@link #bindTo} and {@link #unbind} are called by {@link QmpdMetrics} under its
 * lock; the meters' functions run on whichever thread scrapes.
 */
abstract class MeterGroup implements MeterBinder {
    private final List<Meter> meters = new ArrayList<>();   // @protectedby QmpdMetrics.lock
    private MeterRegistry registry;                         // @protectedby QmpdMetrics.lock

    /** Registers this group's meters in {@code registry} through {@link #add}. */
    protected abstract void register(MeterRegistry registry);

    /** Called by {@link #register} for each meter it creates. */
    protected final <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    @Override
    public final void bindTo(MeterRegistry registry) {
        this.registry = registry;
        register(registry);
    }

    /** Removes every meter this group registered; idempotent. */
    final void unbind() {
        if (registry != null) {
            meters.forEach(registry::remove);
        }
        meters.clear();
    }

    /** The meters registered now (for tests). */
    final List<Meter> meters() {
        return List.copyOf(meters);
    }
}
