package qmpd.bench;

import java.util.concurrent.TimeUnit;
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
import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.PollParams;
import qmpd.loop.IOThread;

/**
 * Cross-thread bottom-half hand-off, round trip: the benchmark thread schedules a reusable BH into
 * an IOThread, which answers with one of two paths:
 * <ul>
 * <li>{@code roundTripBhBack}: it schedules a BH back into the benchmark thread's own AioContext,
 *     which waits in {@code poll(true)} (two loops talking to each other, both with the same
 *     poll-max-ns);</li>
 * <li>{@code roundTripSpin}: it stores a volatile counter the benchmark thread spins on, so only the
 *     IOThread's wake-up and dispatch are measured.</li>
 * </ul>
 * Both BHs are reusable, so a round trip allocates nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BhLatencyBench {
    @Param({"0", "32768"})
    public long pollMaxNs;

    private IOThread io;
    private AioContext client;
    private BottomHalf ping;
    private BottomHalf pong;
    private BottomHalf pingSpin;
    private CpuMeter cpu;
    /** Client home thread only. */
    private long received;
    /** Written by the IOThread, spun on by the benchmark thread. */
    private volatile long spinAnswer;
    private long spinSent;
    private long ops;

    @Setup(Level.Trial)
    public void setUp() {
        PollParams params = PollParams.IOTHREAD_DEFAULT.withPollMaxNs(pollMaxNs);
        io = IOThread.create("bench", params).start();
        client = AioContext.create("bench-client", params);
        pong = client.bhNew("pong", () -> received++);
        ping = io.context().bhNew("ping", pong::schedule);
        pingSpin = io.context().bhNew("ping-spin", () -> spinAnswer++);
        cpu = new CpuMeter(io.thread());
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        ops = 0;
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.report("BhLatency pollMaxNs=" + pollMaxNs, ops);
    }

    @Benchmark
    public long roundTripBhBack() {
        long target = received + 1;
        ping.schedule();
        while (received < target) client.poll(true);
        ops++;
        return received;
    }

    @Benchmark
    public long roundTripSpin() {
        long target = ++spinSent;
        pingSpin.schedule();
        while (spinAnswer < target) Thread.onSpinWait();
        ops++;
        return target;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ping.delete();
        pingSpin.delete();
        io.stop();
        pong.delete();
        client.close();
    }
}
