package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.AioStats;
import qmpd.aio.EventNotifier;
import qmpd.aio.FdHandler;
import qmpd.aio.PollParams;

/** Busy polling as QEMU's aio_poll/adjust_polling_time do it, observed through the counters. */
class AdaptivePollingTest {
    private static final int PINGS = 300;
    private static final long GAP_NS = 20_000;

    /** Sends BHs one after another, each after the previous one ran: frequent events. */
    private static long pingPong(AioContext ctx, int n) throws InterruptedException {
        return pingPong(ctx, n, 0);
    }

    /**
     * The same, spinning {@code gapNs} after each answer before the next ping. Without a gap a
     * ping-pong can pipeline (the next BH is queued before the loop looks again, so it neither
     * sleeps nor polls); a short gap makes every ping find the loop polling or asleep.
     */
    private static long pingPong(AioContext ctx, int n, long gapNs) throws InterruptedException {
        long maxWindow = 0;
        for (int i = 0; i < n; i++) {
            long until = System.nanoTime() + gapNs;
            while (System.nanoTime() - until < 0) Thread.onSpinWait();
            var done = new CountDownLatch(1);
            ctx.runOnce("ping", done::countDown);
            assertTrue(done.await(5, TimeUnit.SECONDS));
            maxWindow = Math.max(maxWindow, ctx.stats().pollWindowNs());
        }
        return maxWindow;
    }

    @Test
    @Timeout(20)
    void withPollMaxNsZeroTheLoopNeverBusyPolls() throws Exception {
        IOThread io = IOThread.create("nopoll", PollParams.NO_POLLING).start();
        try {
            long maxWindow = pingPong(io.context(), PINGS);
            AioStats s = io.context().stats();
            assertEquals(0, maxWindow);
            assertEquals(0, s.busyPollNs());
            assertEquals(0, s.pollHits());
            assertTrue(s.blockedNs() > 0);
            assertTrue(s.bhsRun() >= PINGS);
        } finally {
            io.stop();
        }
    }

    @Test
    @Timeout(20)
    void withPollingOnTheWindowGrowsUnderFrequentEvents() throws Exception {
        // A generous ceiling so that scheduling noise on a loaded 2-CPU machine stays inside it;
        // shrink halves instead of resetting, so one late ping does not undo the growth.
        IOThread io = IOThread.create("poll", new PollParams(50_000_000, 2, 2, 0)).start();
        try {
            long maxWindow = pingPong(io.context(), PINGS, GAP_NS);
            AioStats s = io.context().stats();
            // Growing past 4 us takes a second short blocking wait, which a busy poll preceded.
            assertTrue(maxWindow > 4000, "window grew past QEMU's 4 us start: " + maxWindow);
            assertTrue(s.busyPollNs() > 0, "busy-polled: " + s);
            // Pings spaced by a gap land in the poll window once it is wider than the gap.
            long hitsBefore = s.pollHits();
            pingPong(io.context(), 100, GAP_NS);
            s = io.context().stats();
            assertTrue(s.pollHits() > hitsBefore, "events caught by busy polling, without a syscall: " + s);
        } finally {
            io.stop();
        }
    }

    @Test
    @Timeout(20)
    void pollParamsChangedFromAnotherThreadApplyAtTheNextIteration() throws Exception {
        IOThread io = IOThread.create("switch", new PollParams(50_000_000, 2, 2, 0)).start();
        try {
            pingPong(io.context(), 50);
            io.setPollParams(PollParams.NO_POLLING);
            assertEquals(PollParams.NO_POLLING, io.pollParams());
            pingPong(io.context(), 1);   // one iteration picks the new params up
            long busyBefore = io.context().stats().busyPollNs();
            pingPong(io.context(), 100);
            AioStats s = io.context().stats();
            assertEquals(busyBefore, s.busyPollNs(), "no busy polling after poll-max-ns=0");
            assertEquals(0, s.pollWindowNs());
        } finally {
            io.stop();
        }
    }

    @Test
    @Timeout(20)
    void windowResetsAfterAnIdleGapLongerThanPollMaxNsAndHalvesWithPollShrink() throws Exception {
        for (long shrink : new long[] {0, 2}) {
            IOThread io = IOThread.create("shrink" + shrink, new PollParams(2_000_000, 2, shrink, 0)).start();
            try {
                // The precondition, not the subject: a window that has grown. A descheduled loop
                // thread (a busy machine) can miss the 2 ms bound once, so give it a few rounds.
                long grown = 0;
                for (int round = 0; round < 20 && grown <= 4000; round++) {
                    pingPong(io.context(), 100, GAP_NS);
                    grown = io.context().stats().pollWindowNs();
                }
                assertTrue(grown > 4000, "grew under frequent events: " + grown);
                new CountDownLatch(1).await(20, TimeUnit.MILLISECONDS);   // an idle gap: the subject of the test
                pingPong(io.context(), 1);   // the wake-up after the gap adjusts the window
                long after = io.context().stats().pollWindowNs();
                if (shrink == 0) {
                    assertEquals(0, after, "poll-shrink 0 resets (QEMU adjust_polling_time)");
                } else {
                    assertEquals(grown / 2, after, "poll-shrink 2 halves");
                }
            } finally {
                io.stop();
            }
        }
    }

    @Test
    @Timeout(20)
    void acquireIsPromptEvenWhileTheLoopBusyPollsAWideWindow() throws Exception {
        // poll-max-ns of 1 s: once grown, an idle loop spins for up to a second per iteration,
        // unless it notices a queued acquirer and goes to sleep, releasing the context.
        IOThread io = IOThread.create("widepoll", new PollParams(1_000_000_000, 1000, 2, 0)).start();
        try {
            AioContext ctx = io.context();
            // The window grows only when an event comes after it closed: space the pings out
            // beyond the current window (4 us, then 4 ms, then the 1 s ceiling).
            var never = new CountDownLatch(1);
            for (int i = 0; i < 10 && ctx.stats().pollWindowNs() < 100_000_000; i++) {
                never.await(ctx.stats().pollWindowNs() / 1_000_000 + 2, TimeUnit.MILLISECONDS);
                pingPong(ctx, 1);
            }
            assertTrue(ctx.stats().pollWindowNs() >= 100_000_000, "window " + ctx.stats().pollWindowNs());
            pingPong(ctx, 1);   // now the loop is busy-polling its wide window
            long t0 = System.nanoTime();
            ctx.acquire();
            long waited = System.nanoTime() - t0;
            ctx.release();
            assertTrue(waited < 100_000_000, "acquire waited " + waited / 1000 + " us");
        } finally {
            io.stop();
        }
    }

    @Test
    @Timeout(20)
    void busyPollCallsTheFdHandlersIoPollHookOnlyWhenPollingIsOn() throws Exception {
        for (long maxNs : new long[] {0, 50_000_000}) {
            IOThread io = IOThread.create("iopoll" + maxNs, new PollParams(maxNs, 2, 2, 0)).start();
            EventNotifier n = EventNotifier.create();
            try {
                AioContext ctx = io.context();
                var calls = new java.util.concurrent.atomic.AtomicLong();
                var wrongThread = new java.util.concurrent.atomic.AtomicLong();
                var installed = new CountDownLatch(1);
                FdHandler[] h = new FdHandler[1];
                ctx.runOnce("install", () -> {
                    h[0] = ctx.setEventNotifier(n, n::testAndClear, () -> {
                        if (Thread.currentThread() != io.thread()) wrongThread.incrementAndGet();
                        calls.incrementAndGet();
                        return false;   // a virtqueue/ring check would look for work here
                    });
                    installed.countDown();
                });
                assertTrue(installed.await(5, TimeUnit.SECONDS));
                pingPong(ctx, PINGS, GAP_NS);
                if (maxNs == 0) {
                    assertEquals(0, calls.get(), "poll-max-ns=0 never busy-polls");
                } else {
                    assertTrue(calls.get() > 0, "the hook ran while busy-polling");
                }
                assertEquals(0, wrongThread.get());
                var removed = new CountDownLatch(1);
                ctx.runOnce("remove", () -> {
                    h[0].remove();
                    removed.countDown();
                });
                assertTrue(removed.await(5, TimeUnit.SECONDS));
            } finally {
                io.stop();
                n.close();
            }
        }
    }

    /**
     * QEMU 7.2's poll_disable_cnt: while a handler without an ioPoll hook is installed (an NBD
     * socket, say), spinning could never see its fd become ready, so the loop does not busy-poll
     * at all; once that handler is removed, polling resumes.
     */
    @Test
    @Timeout(30)
    void aHandlerWithoutIoPollDisablesBusyPollingUntilItIsRemoved() throws Exception {
        IOThread io = IOThread.create("polloff", new PollParams(50_000_000, 2, 2, 0)).start();
        EventNotifier n = EventNotifier.create();
        try {
            AioContext ctx = io.context();
            FdHandler[] h = new FdHandler[1];
            var installed = new CountDownLatch(1);
            ctx.runOnce("install", () -> {
                h[0] = ctx.setEventNotifier(n, n::testAndClear, null);
                installed.countDown();
            });
            assertTrue(installed.await(5, TimeUnit.SECONDS));
            long busyBefore = ctx.stats().busyPollNs();
            long hitsBefore = ctx.stats().pollHits();
            pingPong(ctx, PINGS, GAP_NS);
            AioStats s = ctx.stats();
            assertEquals(busyBefore, s.busyPollNs(), "no busy polling with an unpollable handler: " + s);
            assertEquals(hitsBefore, s.pollHits(), "no poll hits with an unpollable handler: " + s);
            assertTrue(s.bhsRun() >= PINGS, "every ping still ran: " + s);

            var removed = new CountDownLatch(1);
            ctx.runOnce("remove", () -> {
                h[0].remove();
                removed.countDown();
            });
            assertTrue(removed.await(5, TimeUnit.SECONDS));
            pingPong(ctx, PINGS, GAP_NS);
            assertTrue(ctx.stats().busyPollNs() > busyBefore, "polling resumed: " + ctx.stats());
        } finally {
            io.stop();
            n.close();
        }
    }

    @Test
    @Timeout(20)
    void idleLoopSleepsWithoutBurningTime() throws Exception {
        IOThread io = IOThread.create("idle", PollParams.IOTHREAD_DEFAULT).start();
        try {
            pingPong(io.context(), 20);
            var never = new CountDownLatch(1);
            // Let the last ping's iteration finish and the loop settle into epoll_wait (a wake-up
            // written just after the loop woke may cost one extra iteration; then it sleeps).
            never.await(30, TimeUnit.MILLISECONDS);
            AioStats before = io.context().stats();
            never.await(50, TimeUnit.MILLISECONDS);   // nothing to do: the loop must stay asleep
            AioStats after = io.context().stats();
            assertEquals(before.iterations(), after.iterations(), "no spurious wake-ups while idle");
            assertEquals(before.busyPollNs(), after.busyPollNs(), "no polling while idle");
        } finally {
            io.stop();
        }
    }
}
