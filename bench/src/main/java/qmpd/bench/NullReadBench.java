package qmpd.bench;

import java.nio.ByteBuffer;
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
import qmpd.block.BlockCompletion;
import qmpd.block.BlockGraph;
import qmpd.block.BlockNode;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;

/**
 * One read through the block graph, as an NBD export issues it: a reused {@link BlockRequest}
 * submitted with {@link BlockNode#submit} to a null-co node living in the benchmark thread's own
 * AioContext, completed inline (null-co) through the node's accounting layer and the caller's
 * completion ({@code graphShape=raw}: through a raw node above it first). {@code readZeroes} adds the 4 KiB zero fill. The request, its completion and the
 * buffer are reused: the path allocates nothing ({@code -prof gc}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NullReadBench {
    @Param({"false", "true"})
    public boolean readZeroes;

    @Param({"4096"})
    public int length;

    /** The read goes to null-co itself, or through a raw node on top of it (one more layer). */
    @Param({"null-co", "raw"})
    public String graphShape;

    private AioContext ctx;
    private BlockGraph graph;
    private BlockNode node;
    private final BlockRequest req = new BlockRequest();
    private ByteBuffer buf;
    private long done;
    private long offset;
    private final BlockCompletion onDone = r -> done++;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = AioContext.createForCurrentThread("bench-main");
        GlobalLock.lock();
        try {
            graph = BlockGraph.withBuiltinDrivers(ctx);
            node = graph.add(new BlockdevOptions.NullCo("n0", 1L << 30, readZeroes, 0, false));
            if (graphShape.equals("raw")) {
                node = graph.add(new BlockdevOptions.Raw("r0", "n0", null, 0, null, false));
            }
        } finally {
            GlobalLock.unlock();
        }
        buf = ByteBuffer.allocateDirect(length);
    }

    @Benchmark
    public long read() {
        long target = done + 1;
        offset = (offset + 7919L * length) & ((1L << 30) - 1) & -length;
        req.set(BlockOp.READ, offset, length, buf, 0, onDone);
        node.submit(req);
        while (done < target) {
            ctx.poll(true);   // null-co completes inline: never reached unless the node is drained
        }
        if (req.failed()) {
            throw new IllegalStateException("read failed: " + req.result());
        }
        return done;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GlobalLock.lock();
        try {
            graph.closeAll();
        } finally {
            GlobalLock.unlock();
        }
        ctx.close();
    }
}
