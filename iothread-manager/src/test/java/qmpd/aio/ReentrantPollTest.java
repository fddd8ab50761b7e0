package qmpd.aio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** poll() called from inside callbacks, as QEMU's waits do. */
class ReentrantPollTest {
    private final AioContext ctx = AioContext.createForCurrentThread("reentrant");
    private final List<String> order = new ArrayList<>();

    @AfterEach
    void close() {
        ctx.close();
    }

    @Test
    @Timeout(5)
    void bhPollsUntilASiblingBhHasRun() {
        boolean[] siblingDone = {false};
        ctx.runOnce("waiter", () -> {
            order.add("waiter-start");
            while (!siblingDone[0]) ctx.poll(true);   // the sibling is queued behind us
            order.add("waiter-end");
        });
        ctx.runOnce("sibling", () -> {
            order.add("sibling");
            siblingDone[0] = true;
        });
        ctx.runOnce("third", () -> order.add("third"));
        ctx.poll(false);
        // The nested level ran the rest of the outer batch; the outer level ran nothing twice.
        assertEquals(List.of("waiter-start", "sibling", "third", "waiter-end"), order);
        ctx.poll(false);
        assertEquals(4, order.size());
    }

    @Test
    @Timeout(5)
    void bhPollsUntilABhFromAnotherThreadHasRun() throws Exception {
        boolean[] done = {false};
        ctx.runOnce("waiter", () -> {
            Thread.ofPlatform().start(() -> ctx.runOnce("remote", () -> done[0] = true));
            while (!done[0]) ctx.poll(true);   // blocks nested until the remote BH wakes us
            order.add("waited");
        });
        while (order.isEmpty()) ctx.poll(true);
        assertTrue(done[0]);
    }

    @Test
    @Timeout(5)
    void fdHandlerPollsNestedAndBothLevelsDispatchSafely() throws IOException {
        Pipe a = Pipe.open();
        Pipe b = Pipe.open();
        try (var aSrc = a.source(); var aSink = a.sink(); var bSrc = b.source(); var bSink = b.sink()) {
            aSrc.configureBlocking(false);
            bSrc.configureBlocking(false);
            ByteBuffer buf = ByteBuffer.allocate(16);
            int[] bReads = {0};
            FdHandler[] hb = new FdHandler[1];
            FdHandler ha = ctx.setFdHandler(Fds.fdOf(aSrc), () -> {
                order.add("a");
                drain(aSrc, buf);
                // Wait nested for pipe b; the outer level may also hold b in its ready copy.
                while (bReads[0] == 0) ctx.poll(true);
                hb[0].remove();   // removed while the outer level may still hold it: it must be skipped
                order.add("a-end");
            }, null, null);
            hb[0] = ctx.setFdHandler(Fds.fdOf(bSrc), () -> {
                order.add("b");
                if (drain(bSrc, buf) > 0) bReads[0]++;
            }, null, null);
            aSink.write(ByteBuffer.wrap(new byte[] {1}));
            bSink.write(ByteBuffer.wrap(new byte[] {2}));
            while (!order.contains("a-end")) ctx.poll(true);
            assertEquals(List.of("a", "b", "a-end"), order, "b ran once, in the nested level only");
            ha.remove();
        }
    }

    @Test
    @Timeout(5)
    void timerCallbackPollsNestedForAnotherTimer() {
        AioTimer second = ctx.timerNew("second", () -> order.add("second"));
        AioTimer first = ctx.timerNew("first", () -> {
            second.modNs(System.nanoTime() + 2_000_000);
            while (!order.contains("second")) ctx.poll(true);
            order.add("first-end");
        });
        first.modNs(System.nanoTime());
        while (!order.contains("first-end")) ctx.poll(true);
        assertEquals(List.of("second", "first-end"), order);
    }

    private static int drain(Pipe.SourceChannel src, ByteBuffer buf) {
        try {
            buf.clear();
            return src.read(buf);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
