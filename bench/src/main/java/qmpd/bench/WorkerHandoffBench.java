package qmpd.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import qmpd.aio.pool.LocklessRequestPool;
import qmpd.aio.pool.ThreadPool;

/**
 * Submit-to-completion round trip of a short task handed from an AioContext to a worker and
 * back into the context: the cost every aio=threads request of the file driver pays.
 *
 * <ul>
 * <li>{@code pool}: {@code threadpool} is the lock-based {@link ThreadPool} (QEMU
 *     thread-pool.c), {@code lockless} the flip-bitmap {@link LocklessRequestPool} (4 workers
 *     of 16 slots), {@code lockless2} the same with 2 workers of 32 slots (one per CPU of the
 *     machine the figures were taken on), {@code virtual} a virtual thread per task that hops back with
 *     {@code ctx.runOnce}.</li>
 * <li>{@code work}: {@code compute} is ~100 ns of arithmetic; {@code pread4k} a 4 KiB
 *     positional read from a 1 MiB temp file already in the page cache.</li>
 * <li>{@code batch}: requests in flight per operation; the score is per batch, so divide by
 *     the batch for a per-request cost.</li>
 * </ul>
 * The benchmark thread is the context's home thread and drives the loop with
 * {@code poll(true)} until the batch completed, as an IOThread would.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WorkerHandoffBench {
    private static final int FILE_SIZE = 1 << 20;

    @Param({"threadpool", "lockless", "lockless2", "virtual"})
    public String pool;

    @Param({"compute", "pread4k"})
    public String work;

    @Param({"1", "32"})
    public int batch;

    private AioContext ctx;
    private ThreadPool threadPool;
    private LocklessRequestPool lockless;
    private ExecutorService virtualThreads;
    private Path file;
    private FileChannel channel;
    private long offset;
    private long seed = 1;
    private CompletableFuture<?>[] inFlight;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        ctx = AioContext.createForCurrentThread("bench");
        file = Files.createTempFile("qmpd-bench", ".img");
        byte[] data = new byte[FILE_SIZE];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        Files.write(file, data);
        channel = FileChannel.open(file, StandardOpenOption.READ);
        channel.read(ByteBuffer.allocate(FILE_SIZE), 0);   // into the page cache
        inFlight = new CompletableFuture<?>[batch];
        switch (pool) {
            case "threadpool" -> threadPool = new ThreadPool(ctx, 4, 64);
            case "lockless" -> lockless = new LocklessRequestPool(ctx, "bench", 4, 16);
            case "lockless2" -> lockless = new LocklessRequestPool(ctx, "bench", 2, 32);
            case "virtual" -> virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
            default -> throw new IllegalArgumentException(pool);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (threadPool != null) {
            threadPool.close();
        }
        if (lockless != null) {
            lockless.close();
        }
        if (virtualThreads != null) {
            virtualThreads.close();
        }
        ctx.close();
        channel.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public long roundTrip() {
        for (int i = 0; i < batch; i++) {
            inFlight[i] = submit(task()).toCompletableFuture();
        }
        long sum = 0;
        for (int i = 0; i < batch; i++) {
            CompletableFuture<?> f = inFlight[i];
            while (!f.isDone()) {
                ctx.poll(true);
            }
            sum += (Long) f.join();
            inFlight[i] = null;
        }
        return sum;
    }

    private Callable<Long> task() {
        if (work.equals("compute")) {
            long s = seed++;
            return () -> {
                long x = s;
                for (int i = 0; i < 64; i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
                return x;
            };
        }
        long pos = offset;
        offset = (offset + 4096) % FILE_SIZE;
        FileChannel ch = channel;
        return () -> (long) ch.read(ByteBuffer.allocate(4096), pos);
    }

    private CompletionStage<Long> submit(Callable<Long> task) {
        return switch (pool) {
            case "threadpool" -> threadPool.submit("bench", task).result();
            case "lockless", "lockless2" -> lockless.submit(task);
            default -> {
                var f = new CompletableFuture<Long>();
                AioContext home = ctx;
                virtualThreads.execute(() -> {
                    try {
                        long v = task.call();
                        home.runOnce("vt-done", () -> f.complete(v));
                    } catch (Exception e) {
                        home.runOnce("vt-failed", () -> f.completeExceptionally(e));
                    }
                });
                yield f;
            }
        };
    }
}
