package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.PollParams;

/**
 * Producers race BHs into an IOThread whose callbacks poll nested (as waits do), so nesting levels
 * push and consume end markers while producers push: every BH must still start exactly once, in
 * FIFO order per producer.
 */
class NestedPollStressTest {
    @Test
    @Timeout(30)
    void nestedPollsWhileProducersPushRunEveryBhExactlyOnceInOrder() throws Exception {
        IOThread io = IOThread.create("nest-stress", PollParams.IOTHREAD_DEFAULT).start();
        AioContext ctx = io.context();
        int producers = 3;
        int perProducer = 20_000;
        // Home thread only (callbacks), read after the final latch.
        int[][] runs = new int[producers][perProducer];
        int[] lastStarted = {-1, -1, -1};
        int[] outOfOrder = {0};
        int[] remaining = {producers * perProducer};
        var done = new CountDownLatch(1);
        // A reusable BH rescheduled from inside nested levels, to mix reusable nodes in.
        int[] reusableRuns = {0};
        BottomHalf reusable = ctx.bhNew("reusable", () -> reusableRuns[0]++);
        var ps = new ArrayList<Thread>();
        for (int p = 0; p < producers; p++) {
            int pid = p;
            ps.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                for (int i = 0; i < perProducer; i++) {
                    int seq = i;
                    ctx.runOnce("p" + pid, () -> {
                        runs[pid][seq]++;
                        if (lastStarted[pid] != seq - 1) outOfOrder[0]++;
                        lastStarted[pid] = seq;
                        if (seq % 97 == 0) {
                            reusable.schedule();
                            for (int k = 0; k < 3; k++) ctx.poll(false);   // nested, non-blocking
                        }
                        if (--remaining[0] == 0) done.countDown();
                    });
                }
            }));
        }
        for (Thread t : ps) t.join();
        assertTrue(done.await(20, TimeUnit.SECONDS), "remaining " + remaining[0]);
        var finished = new CountDownLatch(1);
        ctx.runOnce("check", finished::countDown);   // FIFO: orders the reads below after all BHs
        assertTrue(finished.await(5, TimeUnit.SECONDS));
        for (int p = 0; p < producers; p++) {
            for (int i = 0; i < perProducer; i++) assertEquals(1, runs[p][i], "producer " + p + " bh " + i);
        }
        assertEquals(0, outOfOrder[0]);
        assertTrue(reusableRuns[0] > 0);
        reusable.delete();
        io.stop();
    }
}
