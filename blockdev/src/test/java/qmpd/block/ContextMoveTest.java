package qmpd.block;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.PollParams;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;
import qmpd.loop.IOThread;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node under load moves between IOThreads and back, while another thread keeps acquiring its
 * context: no request is lost, doubled, or completed outside the node's home thread.
 */
@Timeout(120)
class ContextMoveTest {

    private static final int TOTAL = 20_000;
    private static final int DEPTH = 32;

    private AioContext main;
    private BlockGraph graph;
    private IOThread a;
    private IOThread b;

    @BeforeEach
    void setUp() {
        main = AioContext.createForCurrentThread("main-test");
        GlobalLock.lock();
        graph = BlockGraph.withBuiltinDrivers(main);
        a = IOThread.create("move-a", PollParams.DEFAULT);
        b = IOThread.create("move-b", PollParams.DEFAULT);
        a.start();
        b.start();
    }

    @AfterEach
    void tearDown() {
        graph.closeAll();
        GlobalLock.unlock();
        a.stop();
        b.stop();
        main.close();
    }

    /** Keeps DEPTH requests in flight from the node's home thread until TOTAL have completed. */
    private static final class Client {
        final BlockNode node;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger wrongThread = new AtomicInteger();
        final AtomicIntegerArray seen = new AtomicIntegerArray(TOTAL);

        Client(BlockNode node) {
            this.node = node;
        }

        void start() {
            for (int i = 0; i < DEPTH; i++) {
                submitNext(new BlockRequest());
            }
        }

        void submitNext(BlockRequest r) {
            int id = next.getAndIncrement();
            if (id >= TOTAL) {
                return;
            }
            long offset = (long) (id % 256) * 4096;
            r.set(BlockOp.READ, offset, 4096, ByteBuffer.allocate(4096), 0, this::completed).attach(id);
            node.submit(r);
        }

        void completed(BlockRequest r) {
            if (AioContext.current() != node.context() || r.result() != 4096) {
                wrongThread.incrementAndGet();
            }
            seen.incrementAndGet((Integer) r.attachment());
            completed.incrementAndGet();
            submitNext(r);
        }
    }

    @Test
    void requestsInFlightSurviveMovesBetweenIOThreads() throws InterruptedException {
        BlockNode n = graph.add(new BlockdevOptions.NullAio("na", 1 << 20, true, 0, false));
        graph.setContext(n, a.context());
        assertEquals(a.context(), n.context());
        Client client = new Client(n);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acquisitions = new AtomicInteger();
        Thread acquirer = Thread.ofPlatform().name("acquirer").start(() -> {
            while (!stop.get()) {
                AioContext c = a.context();
                c.acquire();
                try {
                    acquisitions.incrementAndGet();
                } finally {
                    c.release();
                }
                Thread.onSpinWait();
            }
        });

        a.context().runOnce("client-start", client::start);
        int moves = 0;
        while (client.completed.get() < TOTAL) {
            graph.setContext(n, moves % 2 == 0 ? b.context() : a.context());
            moves++;
            main.poll(false);
        }
        stop.set(true);
        acquirer.join();

        assertEquals(0, client.wrongThread.get(), "completions outside the home thread or failed");
        for (int i = 0; i < TOTAL; i++) {
            assertEquals(1, client.seen.get(i), "request " + i + " completed once");
        }
        assertTrue(moves >= 2, "the node moved while requests were in flight: " + moves);
        assertTrue(acquisitions.get() > 0);
        assertEquals(0, n.inFlight());
    }

    @Test
    void drainWaitsForEveryRequestAndParksNewOnes() {
        BlockNode n = graph.add(new BlockdevOptions.NullCo("slow", 1 << 20, true, 2_000_000, false));
        graph.setContext(n, a.context());
        Client client = new Client(n);
        a.context().runOnce("client-start", client::start);
        while (client.completed.get() < 100) {
            main.poll(false);
        }
        try (Drained d = Drained.begin(n)) {
            assertEquals(0, n.inFlight(), "drained: nothing in flight");
            int frozen = client.completed.get();
            // Completions cannot happen while drained: every new request is parked.
            for (int i = 0; i < 20; i++) {
                main.poll(false);
            }
            assertEquals(frozen, client.completed.get());
        }
        int after = client.completed.get();
        while (client.completed.get() < after + DEPTH) {
            main.poll(false);
        }
    }
}
