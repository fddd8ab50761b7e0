package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.AioTimer;
import qmpd.aio.BottomHalf;
import qmpd.aio.PollParams;

/** The four AioContext rules of seed 002 / docs/architecture.md, each on real threads. */
class AioContextRulesTest {
    private final List<IOThread> threads = new ArrayList<>();

    private IOThread start(String id) {
        IOThread t = IOThread.create(id, PollParams.IOTHREAD_DEFAULT).start();
        threads.add(t);
        return t;
    }

    @AfterEach
    void stopAll() {
        threads.forEach(IOThread::stop);
    }

    @Test
    @Timeout(10)
    void rule1CallbacksUseTheirOwnContextWithoutAcquiring() throws Exception {
        IOThread io = start("r1");
        AioContext ctx = io.context();
        var fired = new CompletableFuture<Thread>();
        ctx.runOnce("arm-timer", () -> {
            ctx.assertInHomeThread();   // no acquire needed in a callback
            AioTimer t = ctx.timerNew("t", () -> fired.complete(Thread.currentThread()));
            t.modNs(System.nanoTime() + 1_000_000);
        });
        assertSame(io.thread(), fired.get(5, TimeUnit.SECONDS));
        assertEquals("iothread-r1", io.thread().getName());
    }

    @Test
    @Timeout(10)
    void rule2AcquireExcludesTheHomeThreadAndNests() throws Exception {
        IOThread io = start("r2");
        AioContext ctx = io.context();
        var ran = new CountDownLatch(1);
        ctx.acquire();
        ctx.acquire();   // nesting
        try {
            assertEquals(2, ctx.acquiredLevels());
            ctx.assertInHomeThread();   // an acquirer may use @HomeThread methods
            ctx.runOnce("excluded", ran::countDown);
            assertFalse(ran.await(50, TimeUnit.MILLISECONDS), "no callback runs while another thread holds the context");
            ctx.release();
            assertFalse(ran.await(20, TimeUnit.MILLISECONDS), "still held at level 1");
        } finally {
            ctx.release();
        }
        assertTrue(ran.await(5, TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, ctx::release, "release by a thread that holds nothing");
    }

    @Test
    @Timeout(10)
    void rule2AcquireSucceedsPromptlyWhileTheLoopBusyPolls() throws Exception {
        IOThread io = start("r2poll");
        AioContext ctx = io.context();
        // Keep the loop busy: a self-rescheduling BH makes every iteration productive.
        var stop = new AtomicBoolean();
        BottomHalf[] spin = new BottomHalf[1];
        spin[0] = ctx.bhNew("spin", () -> {
            if (!stop.get()) spin[0].schedule();
        });
        spin[0].schedule();
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            ctx.acquire();
            long waited = System.nanoTime() - t0;
            ctx.release();
            assertTrue(waited < TimeUnit.SECONDS.toNanos(1), "acquire took " + waited + " ns");
        }
        stop.set(true);
        var deleted = new CountDownLatch(1);
        ctx.runOnce("delete-spin", () -> {
            spin[0].delete();
            deleted.countDown();
        });
        assertTrue(deleted.await(5, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(10)
    void rule2ReleaseByANonOwnerThrows() throws Exception {
        IOThread io = start("r2owner");
        AioContext ctx = io.context();
        ctx.acquire();
        try {
            var error = new AtomicReference<Throwable>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    ctx.release();
                } catch (Throwable e) {
                    error.set(e);
                }
            });
            other.join();
            assertTrue(error.get() instanceof IllegalStateException, String.valueOf(error.get()));
        } finally {
            ctx.release();
        }
    }

    @Test
    @Timeout(10)
    void rule3OnlyTheGlobalLockHolderMayHoldTwoContexts() throws Exception {
        AioContext a = start("r3a").context();
        AioContext b = start("r3b").context();
        a.acquire();
        try {
            assertThrows(IllegalStateException.class, b::acquire);
            GlobalLock.lock();
            try {
                b.acquire();   // the GlobalLock holder may
                b.release();
            } finally {
                GlobalLock.unlock();
            }
        } finally {
            a.release();
        }
        // An IOThread callback holds its own context implicitly: it may not acquire another.
        var error = new CompletableFuture<Throwable>();
        a.runOnce("acquire-b", () -> {
            try {
                b.acquire();
                b.release();
                error.complete(null);
            } catch (Throwable e) {
                error.complete(e);
            }
        });
        assertTrue(error.get(5, TimeUnit.SECONDS) instanceof IllegalStateException);
    }

    @Test
    @Timeout(30)
    void rule4ManyProducersScheduleWithoutLocksAllRunOnceFifoPerProducerOnTheHomeThread() throws Exception {
        IOThread io = start("r4");
        AioContext ctx = io.context();
        int producers = 4;
        int perProducer = 50_000;
        int[] lastSeen = new int[producers];
        java.util.Arrays.fill(lastSeen, -1);
        var wrongThread = new AtomicInteger();
        var outOfOrder = new AtomicInteger();
        var total = new AtomicInteger();
        var done = new CountDownLatch(1);
        Thread home = io.thread();
        var ps = new ArrayList<Thread>();
        for (int p = 0; p < producers; p++) {
            int pid = p;
            ps.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                for (int i = 0; i < perProducer; i++) {
                    int seq = i;
                    ctx.runOnce("p" + pid, () -> {
                        // Home thread only: plain array access is safe.
                        if (Thread.currentThread() != home) wrongThread.incrementAndGet();
                        if (lastSeen[pid] != seq - 1) outOfOrder.incrementAndGet();
                        lastSeen[pid] = seq;
                        if (total.incrementAndGet() == producers * perProducer) done.countDown();
                    });
                }
            }));
        }
        for (Thread t : ps) t.join();
        assertTrue(done.await(20, TimeUnit.SECONDS), "ran " + total.get());
        assertEquals(0, wrongThread.get());
        assertEquals(0, outOfOrder.get());
        assertEquals(producers * perProducer, total.get());
    }

    @Test
    @Timeout(30)
    void rule4ReusableBhsScheduledFromManyThreadsNeverLoseASchedule() throws Exception {
        IOThread io = start("r4bh");
        AioContext ctx = io.context();
        var runs = new AtomicInteger();
        var target = new AtomicInteger();
        BottomHalf bh = ctx.bhNew("counter", runs::incrementAndGet);
        var ps = new ArrayList<Thread>();
        for (int p = 0; p < 4; p++) {
            ps.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 20_000; i++) {
                    target.incrementAndGet();
                    bh.schedule();
                }
            }));
        }
        for (Thread t : ps) t.join();
        // Every schedule either ran the BH after it or coalesced with a pending one: a final
        // marker BH (FIFO) proves the last schedule was honoured.
        var last = new CountDownLatch(1);
        ctx.runOnce("marker", last::countDown);
        assertTrue(last.await(10, TimeUnit.SECONDS));
        assertTrue(runs.get() >= 1 && runs.get() <= target.get(), "runs " + runs.get());
        assertFalse(bh.isScheduled());
        bh.delete();
    }
}
