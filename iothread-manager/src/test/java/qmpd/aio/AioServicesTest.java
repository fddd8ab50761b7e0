package qmpd.aio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timers, fd handlers and event notifiers of one context driven by the test thread. */
class AioServicesTest {
    private final AioContext ctx = AioContext.createForCurrentThread("test");
    private final List<String> order = new ArrayList<>();

    @AfterEach
    void close() {
        ctx.close();
    }

    @Test
    @Timeout(5)
    void timersFireInDeadlineOrderNotBeforeTheirDeadline() {
        long now = System.nanoTime();
        long[] firedAt = new long[3];
        AioTimer late = ctx.timerNew("late", () -> { order.add("late"); firedAt[2] = System.nanoTime(); });
        AioTimer early = ctx.timerNew("early", () -> { order.add("early"); firedAt[0] = System.nanoTime(); });
        AioTimer mid = ctx.timerNew("mid", () -> { order.add("mid"); firedAt[1] = System.nanoTime(); });
        late.modNs(now + 30_000_000);
        early.modNs(now + 5_000_000);
        mid.modNs(now + 15_000_000);
        assertTrue(early.isPending());
        while (order.size() < 3) ctx.poll(true);   // sleeps in epoll_wait until each deadline
        assertEquals(List.of("early", "mid", "late"), order);
        assertTrue(firedAt[0] - now >= 5_000_000);
        assertTrue(firedAt[1] - now >= 15_000_000);
        assertTrue(firedAt[2] - now >= 30_000_000);
        assertFalse(early.isPending());
        assertEquals(3, ctx.stats().timersFired());
    }

    @Test
    @Timeout(5)
    void deletedTimerDoesNotFireAndModMovesTheDeadline() {
        long now = System.nanoTime();
        AioTimer gone = ctx.timerNew("gone", () -> order.add("gone"));
        AioTimer moved = ctx.timerNew("moved", () -> order.add("moved"));
        AioTimer stop = ctx.timerNew("stop", () -> order.add("stop"));
        gone.modNs(now + 1_000_000);
        gone.del();
        moved.modNs(now + 60_000_000_000L);
        moved.modNs(now + 2_000_000);   // re-arming replaces the deadline
        stop.modNs(now + 4_000_000);
        while (!order.contains("stop")) ctx.poll(true);
        assertEquals(List.of("moved", "stop"), order);
    }

    @Test
    @Timeout(5)
    void timerCallbackCanRearmItselfForPeriodicWork() {
        AioTimer[] t = new AioTimer[1];
        t[0] = ctx.timerNew("tick", () -> {
            order.add("tick");
            if (order.size() < 3) t[0].modNs(System.nanoTime() + 1_000_000);
        });
        t[0].modNs(System.nanoTime());
        while (order.size() < 3) ctx.poll(true);
        assertFalse(t[0].isPending());
    }

    @Test
    @Timeout(5)
    void fdHandlerOnAPipeRunsOnReadableAndStopsAfterRemove() throws IOException {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel src = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            src.configureBlocking(false);
            var threads = new ArrayList<Thread>();
            ByteBuffer buf = ByteBuffer.allocate(64);
            FdHandler h = ctx.setFdHandler(Fds.fdOf(src), () -> {
                threads.add(Thread.currentThread());
                try {
                    buf.clear();
                    src.read(buf);   // level-triggered: drain, or we are called again
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, null, null);
            assertFalse(ctx.poll(false), "nothing written yet");
            sink.write(ByteBuffer.wrap(new byte[] {42}));
            while (threads.isEmpty()) ctx.poll(true);
            assertSame(Thread.currentThread(), threads.get(0));
            assertEquals(42, buf.get(0));
            assertEquals(1, ctx.stats().fdEvents());

            h.remove();
            assertTrue(h.isRemoved());
            sink.write(ByteBuffer.wrap(new byte[] {43}));
            assertFalse(ctx.poll(false), "a removed handler is not called");
            assertEquals(1, threads.size());
        }
    }

    @Test
    @Timeout(5)
    void fdHandlerInterestCanSwitchToWritable() throws IOException {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel src = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            sink.configureBlocking(false);
            int[] writable = {0};
            FdHandler h = ctx.setFdHandler(Fds.fdOf(sink), () -> {}, () -> writable[0]++, null);
            h.setInterest(false, false);
            assertFalse(ctx.poll(false));
            h.setInterest(false, true);
            assertTrue(ctx.poll(false), "an empty pipe is writable");
            assertEquals(1, writable[0]);
            assertNull(ctx.setFdHandler(Fds.fdOf(sink), null, null, null), "both callbacks null removes");
            assertTrue(h.isRemoved());
        }
    }

    @Test
    @Timeout(5)
    void eventNotifierSetsCoalesceIntoOneHandlerCall() throws Exception {
        try (EventNotifier n = EventNotifier.create()) {
            var calls = new ArrayList<Thread>();
            FdHandler h = ctx.setEventNotifier(n, () -> {
                if (n.testAndClear()) calls.add(Thread.currentThread());
            }, null);
            Thread setter = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10; i++) n.set();
            });
            setter.join();
            while (calls.isEmpty()) ctx.poll(true);
            assertFalse(ctx.poll(false), "ten sets, one event");
            assertEquals(1, calls.size());
            assertSame(Thread.currentThread(), calls.get(0));
            assertEquals(1, ctx.stats().notifierEvents());
            h.remove();
        }
    }

    @Test
    @Timeout(5)
    void serviceIsCreatedOnceAndClosedWithTheContextNewestFirst() {
        var closed = new ArrayList<String>();
        class First implements AutoCloseable {
            @Override public void close() { closed.add("first"); }
        }
        class Second implements AutoCloseable {
            @Override public void close() { closed.add("second"); }
        }
        AioContext other = AioContext.create("services");
        First f = other.service(First.class, c -> new First());
        assertSame(f, other.service(First.class, c -> new First()));
        other.service(Second.class, c -> new Second());
        other.close();
        assertEquals(List.of("second", "first"), closed);
    }
}
