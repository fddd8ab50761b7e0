package qmpd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.metrics.Samples.value;
import static qmpd.metrics.Samples.values;

import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.PollParams;
import qmpd.block.BlockGraph;
import qmpd.block.BlockNode;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.IOThread;
import qmpd.loop.MainLoop;

/** A node's meters are re-tagged when it moves between IOThreads, keeping its counts. */
@Timeout(30)
class NodeMoveMetricsTest {
    private final MainLoop main = new MainLoop().start();
    private final BlockGraph graph = BlockGraph.withBuiltinDrivers(main.context());
    private final QmpdMetrics metrics = new QmpdMetrics();
    private final IOThread io0 = IOThread.create("io0", PollParams.IOTHREAD_DEFAULT).start();

    @AfterEach
    void tearDown() throws Exception {
        metrics.close();
        onMain(() -> {
            graph.closeAll();
            return null;
        });
        io0.stop();
        main.stop();
    }

    /** Runs {@code work} in the main loop with the GlobalLock held (as QMP commands do). */
    private <T> T onMain(Callable<T> work) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        main.context().runOnce("test", () -> {
            try {
                f.complete(work.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    /** One write submitted from the node's home thread, awaited here. */
    private int write(BlockNode node) throws Exception {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        node.context().runOnce("test-write", () -> node.submit(new BlockRequest().set(BlockOp.WRITE, 0, 4096,
                ByteBuffer.allocateDirect(4096), 0, r -> done.complete(r.result()))));
        return done.get(10, TimeUnit.SECONDS);
    }

    private String text() {
        return metrics.scrape(null).body();
    }

    @Test
    void nodeMetersFollowTheNodeToAnotherIothreadAndBack() throws Exception {
        BlockNode d0 = onMain(() -> graph.add(new BlockdevOptions.NullCo("d0", 1 << 20, true, 0, false)));
        onMain(() -> {
            metrics.bindNode(d0);   // blockdev-add's place
            return null;
        });
        assertEquals(4096, write(d0));
        onMain(() -> {
            graph.setContext(d0, io0.context());
            return null;
        });
        assertEquals(4096, write(d0));
        String t = text();
        assertEquals(2, value(t, "qmpd_block_operations_total", "node=d0", "op=write", "iothread=io0"));
        assertTrue(values(t, "qmpd_block_operations_total", "node=d0", "iothread=main-loop").isEmpty(), t);

        onMain(() -> {
            graph.setContext(d0, null);   // back to the main loop
            return null;
        });
        t = text();
        assertEquals(2, value(t, "qmpd_block_operations_total", "node=d0", "op=write", "iothread=main-loop"));
        assertFalse(t.contains("iothread=\"io0\""), t);

        onMain(() -> {
            metrics.unbindNode("d0");
            graph.setContext(d0, io0.context());   // an unbound node's move adds no meter
            return null;
        });
        assertFalse(text().contains("node=\"d0\""));
    }
}
