package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.AioStats;
import qmpd.aio.PollParams;

/** Busy polling as QEMU's aio_poll/adjust_polling_time do it, observed through the counters. */
class AdaptivePollingTest {
    private static final int PINGS = 300;

    /** Sends BHs one after another, each after the previous one ran: frequent events. */
    private static long pingPong(AioContext ctx, int n) throws InterruptedException {
        long maxWindow = 0;
        for (int i = 0; i < n; i++) {
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
            long maxWindow = pingPong(io.context(), PINGS);
            AioStats s = io.context().stats();
            assertTrue(maxWindow > 4000, "window grew past QEMU's 4 us start: " + maxWindow);
            assertTrue(s.busyPollNs() > 0, "busy-polled: " + s);
            assertTrue(s.pollHits() > 0, "some events were caught by polling: " + s);
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
