package qmpd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import java.lang.management.ManagementFactory;

/**
 * Fixes the two of Micrometer's process meters that {@code promtool check metrics} refuses:
 * {@code process_cpu_time_ns_total} (an abbreviated unit; replaced by Prometheus's usual
 * {@code process_cpu_seconds_total}) and {@code system_cpu_count} (a gauge ending in _count;
 * renamed {@code system_cpus}). Install before the process binders register.
 */
final class PromtoolClean {
    private PromtoolClean() {
    }

    static void install(MeterRegistry registry) {
        registry.config()
                .meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                    }
                });
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                    .description("CPU time used by the process").baseUnit("seconds").register(registry);
        }
    }
}
