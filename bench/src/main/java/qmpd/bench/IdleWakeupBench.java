package qmpd.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import qmpd.aio.BottomHalf;
import qmpd.aio.PollParams;
import qmpd.loop.IOThread;

/**
 * Latency to wake an idle IOThread: before each (untimed) invocation the benchmark thread parks
 * for {@code gapUs}, long enough for the IOThread to leave its poll window and sleep in
 * epoll_wait; the timed part schedules a BH and spins until the IOThread has run it. This is the
 * eventfd wake-up path of the notify_me protocol (write, kernel wake-up, dispatch).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class IdleWakeupBench {
    @Param({"0", "32768"})
    public long pollMaxNs;

    @Param({"1000"})
    public long gapUs;

    private IOThread io;
    private BottomHalf bh;
    private CpuMeter cpu;
    private volatile long answered;
    private long sent;
    private long ops;

    @Setup(Level.Trial)
    public void setUp() {
        io = IOThread.create("idle-bench", PollParams.IOTHREAD_DEFAULT.withPollMaxNs(pollMaxNs)).start();
        bh = io.context().bhNew("wake", () -> answered++);
        cpu = new CpuMeter(io.thread());
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        ops = 0;
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.report("IdleWakeup pollMaxNs=" + pollMaxNs, ops);
    }

    @Setup(Level.Invocation)
    public void goIdle() {
        LockSupport.parkNanos(gapUs * 1000);
    }

    @Benchmark
    public long wakeIdleIOThread() {
        long target = ++sent;
        bh.schedule();
        while (answered < target) Thread.onSpinWait();
        ops++;
        return target;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bh.delete();
        io.stop();
    }
}
