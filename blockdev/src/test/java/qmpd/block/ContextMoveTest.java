package qmpd.block;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.IOThread;

import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
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

    private final MainLoopHarness h = new MainLoopHarness();

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** Keeps DEPTH requests in flight from the node's home thread until TOTAL have completed. */
    private static final class Client {
        final BlockNode node;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger wrong = new AtomicInteger();
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
                wrong.incrementAndGet();
            }
            seen.incrementAndGet((Integer) r.attachment());
            completed.incrementAndGet();
            submitNext(r);
        }
    }

    @Test
    void requestsInFlightSurviveMovesBetweenIOThreads() throws InterruptedException {
        IOThread a = h.iothread("move-a");
        IOThread b = h.iothread("move-b");
        BlockNode n = h.onMain(() -> h.graph.add(new BlockdevOptions.NullAio("na", 1 << 20, true, 0, false)));
        h.onMain(() -> h.graph.setContext(n, a.context()));
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
            }
        });

        // Start the client in its home thread before the first move: a start racing with the move
        // would submit from a thread that is no longer the node's home.
        CountDownLatch started = new CountDownLatch(1);
        a.context().runOnce("client-start", () -> {
            client.start();
            started.countDown();
        });
        started.await();
        int moves = 0;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (client.completed.get() < TOTAL) {
            assertTrue(System.nanoTime() < deadline, "no progress: " + client.completed.get() + " of " + TOTAL
                    + " completed, " + n.inFlight() + " in flight");
            IOThread target = moves % 2 == 0 ? b : a;
            h.onMain(() -> h.graph.setContext(n, target.context()));
            moves++;
        }
        stop.set(true);
        acquirer.join();

        assertEquals(0, client.wrong.get(), "completions outside the home thread, or failed");
        for (int i = 0; i < TOTAL; i++) {
            assertEquals(1, client.seen.get(i), "request " + i + " completed exactly once");
        }
        assertTrue(moves >= 2, "the node moved while requests were in flight: " + moves);
        assertTrue(acquisitions.get() > 0);
        assertEquals(0, n.inFlight());
    }

    @Test
    void drainWaitsForEveryRequestAndParksNewOnes() {
        IOThread a = h.iothread("drain-a");
        BlockNode n = h.onMain(() -> h.graph.add(new BlockdevOptions.NullCo("slow", 1 << 20, true, 1_000_000, false)));
        h.onMain(() -> h.graph.setContext(n, a.context()));
        Client client = new Client(n);
        a.context().runOnce("client-start", client::start);
        while (client.completed.get() < 100) {
            Thread.onSpinWait();
        }
        int[] frozen = new int[2];
        h.onMain(() -> {
            try (Drained d = Drained.begin(n)) {
                frozen[0] = n.inFlight();
                frozen[1] = client.completed.get();
                // While drained, the client's new requests are parked: nothing completes.
                for (int i = 0; i < 5; i++) {
                    AioContext.current().poll(false);
                }
                assertEquals(frozen[1], client.completed.get());
            }
        });
        assertEquals(0, frozen[0], "drained: nothing in flight");
        int after = client.completed.get();
        while (client.completed.get() < after + DEPTH) {
            Thread.onSpinWait();
        }
    }
}
