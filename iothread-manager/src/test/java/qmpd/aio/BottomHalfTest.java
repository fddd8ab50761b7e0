package qmpd.aio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BottomHalfTest {
    private final AioContext ctx = AioContext.createForCurrentThread("test");
    private final List<String> order = new ArrayList<>();

    @AfterEach
    void close() {
        if (!ctx.isClosed()) ctx.close();
    }

    @Test
    @Timeout(5)
    void oneShotsRunOnceInFifoOrderOnTheHomeThread() {
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            ctx.runOnce("bh" + n, () -> {
                order.add("bh" + n);
                threads.add(Thread.currentThread());
            });
        }
        assertTrue(ctx.poll(false));
        assertEquals(List.of("bh0", "bh1", "bh2", "bh3", "bh4"), order);
        threads.forEach(t -> assertSame(Thread.currentThread(), t));
        assertFalse(ctx.poll(false), "nothing left to run");
        assertEquals(5, ctx.stats().bhsRun());
    }

    @Test
    @Timeout(5)
    void reusableBhIsIdempotentWhilePendingAndRunsAgainAfterReschedule() {
        BottomHalf bh = ctx.bhNew("counter", () -> order.add("run"));
        bh.schedule();
        bh.schedule();
        assertTrue(bh.isScheduled());
        ctx.poll(false);
        assertEquals(1, order.size());
        assertFalse(bh.isScheduled());
        bh.schedule();
        ctx.poll(false);
        assertEquals(2, order.size());
        bh.delete();
    }

    @Test
    @Timeout(5)
    void cancelledBhDoesNotRunButCanBeScheduledAgain() {
        BottomHalf bh = ctx.bhNew("cancelled", () -> order.add("run"));
        bh.schedule();
        bh.cancel();
        assertFalse(ctx.poll(false));
        assertTrue(order.isEmpty());
        bh.schedule();
        assertTrue(ctx.poll(false));
        assertEquals(List.of("run"), order);
        bh.delete();
    }

    @Test
    @Timeout(5)
    void deletedPendingBhIsSkippedAndCannotBeScheduled() {
        BottomHalf bh = ctx.bhNew("deleted", () -> order.add("run"));
        bh.schedule();
        bh.delete();
        assertFalse(ctx.poll(false));
        assertTrue(order.isEmpty());
        assertThrows(IllegalStateException.class, bh::schedule);
    }

    @Test
    @Timeout(5)
    void bhMayRescheduleItselfAndRunsAgainInTheNextIterationNotThisOne() {
        int[] runs = {0};
        BottomHalf[] self = new BottomHalf[1];
        self[0] = ctx.bhNew("self", () -> {
            if (++runs[0] < 3) self[0].schedule();
        });
        self[0].schedule();
        ctx.poll(false);
        assertEquals(1, runs[0], "a BH scheduled during an iteration waits for the next");
        ctx.poll(false);
        ctx.poll(false);
        assertEquals(3, runs[0]);
        self[0].delete();
    }

    @Test
    @Timeout(5)
    void closingWithALeakedBhFailsByName() {
        ctx.bhNew("leaky-completion", () -> {});
        BottomHalf ok = ctx.bhNew("deleted-one", () -> {});
        ok.delete();
        var e = assertThrows(IllegalStateException.class, ctx::close);
        assertTrue(e.getMessage().contains("leaky-completion"), e.getMessage());
        assertFalse(e.getMessage().contains("deleted-one"), e.getMessage());
        assertTrue(ctx.isClosed());
    }

    @Test
    @Timeout(5)
    void runOnceAfterCloseIsRejected() {
        ctx.close();
        assertThrows(RejectedExecutionException.class, () -> ctx.runOnce("late", () -> {}));
    }

    @Test
    @Timeout(5)
    void exceptionInACallbackIsReportedAndTheLoopGoesOn() {
        var errors = new ArrayList<Throwable>();
        ctx.setExceptionHandler(errors::add);
        ctx.runOnce("throws", () -> {
            throw new IllegalArgumentException("boom");
        });
        ctx.runOnce("after", () -> order.add("after"));
        ctx.poll(false);
        assertEquals(1, errors.size());
        assertEquals(List.of("after"), order);
        assertEquals(1, ctx.stats().callbackErrors());
    }

    @Test
    @Timeout(5)
    void crossThreadScheduleWakesABlockedPoll() throws Exception {
        var ran = new ArrayList<Thread>();
        Thread producer = Thread.ofPlatform().start(() -> ctx.runOnce("remote", () -> ran.add(Thread.currentThread())));
        while (ran.isEmpty()) ctx.poll(true);   // blocks in epoll_wait until the producer's wake-up
        producer.join();
        assertSame(Thread.currentThread(), ran.get(0));
    }

    @Test
    @Timeout(5)
    void currentIsTheHomeContextAndNullElsewhere() throws Exception {
        assertSame(ctx, AioContext.current());
        assertTrue(AioContext.inAnyHomeThread());
        var seen = new Object[2];
        Thread t = Thread.ofPlatform().start(() -> {
            seen[0] = AioContext.current();
            seen[1] = AioContext.inAnyHomeThread();
        });
        t.join();
        assertEquals(null, seen[0]);
        assertEquals(false, seen[1]);
    }

    @Test
    @Timeout(5)
    void pollFromAnotherThreadIsRefused() throws Exception {
        var error = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                ctx.poll(false);
            } catch (Throwable e) {
                error[0] = e;
            }
        });
        t.join();
        assertTrue(error[0] instanceof IllegalStateException, String.valueOf(error[0]));
    }
}
