package qmpd.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time of the loop thread and of the whole process over one measurement iteration, printed as
 * a share of one core: what busy polling costs.
 */
final class CpuMeter {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final Thread loop;
    private long wall0;
    private long loopCpu0;
    private long processCpu0;

    CpuMeter(Thread loop) {
        this.loop = loop;
    }

    void start() {
        wall0 = System.nanoTime();
        loopCpu0 = THREADS.getThreadCpuTime(loop.threadId());
        processCpu0 = OS.getProcessCpuTime();
    }

    /** Prints "[cpu] label: loop thread X% of a core, process Y%" for the interval since start(). */
    void report(String label, long ops) {
        long wall = System.nanoTime() - wall0;
        long loopCpu = THREADS.getThreadCpuTime(loop.threadId()) - loopCpu0;
        long processCpu = OS.getProcessCpuTime() - processCpu0;
        System.out.printf("%n[cpu] %s: loop thread %.0f%% of a core, process %.0f%%, loop CPU per op %.0f ns%n",
                label, 100.0 * loopCpu / wall, 100.0 * processCpu / wall, ops == 0 ? 0.0 : (double) loopCpu / ops);
    }
}
