package qmpd.aio.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.aio.pool.Conditions.awaitTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qmpd.aio.AioContext;

/** QEMU tests/unit/test-thread-pool.c, in the same style: the test thread drives the loop. */
class ThreadPoolTest {
    private final AioContext ctx = AioContext.createForCurrentThread("test");
    private final List<ThreadPool> privatePools = new ArrayList<>();
    private boolean ctxClosed;

    @AfterEach
    void close() {
        privatePools.forEach(ThreadPool::close);
        if (!ctxClosed) {
            ctx.close();
        }
    }

    private ThreadPool privatePool(int min, int max, Duration idle) {
        ThreadPool p = new ThreadPool(ctx, min, max, idle);
        privatePools.add(p);
        return p;
    }

    /** Drives the loop until the stage is complete, then returns it as a future to inspect. */
    private <T> CompletableFuture<T> drive(Threadlet<T> t) {
        CompletableFuture<T> f = t.result().toCompletableFuture();
        while (!f.isDone()) {
            ctx.poll(true);
        }
        return f;
    }

    private static void assertCancelled(CompletableFuture<?> f) {
        Throwable e = assertThrows(RuntimeException.class, f::join);
        while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        assertInstanceOf(CancellationException.class, e);
    }

    @Test
    @Timeout(5)
    void completionRunsInSubmittingContextNotOnWorker() {
        var worker = new AtomicReference<Thread>();
        var workerCtx = new AtomicReference<AioContext>(ctx);
        var ranOn = new AtomicReference<Thread>();
        Threadlet<Integer> t = ThreadPool.of(ctx).submit("noop", () -> {
            worker.set(Thread.currentThread());
            workerCtx.set(AioContext.current());
            return 42;
        });
        t.result().thenRun(() -> ranOn.set(Thread.currentThread()));
        while (ranOn.get() == null) {
            ctx.poll(true);   // the completion BH runs here, in this thread
        }
        assertSame(Thread.currentThread(), ranOn.get());
        assertTrue(worker.get().getName().startsWith("worker-test-"), worker.get().getName());
        assertFalse(worker.get().isVirtual());
        assertNull(workerCtx.get(), "a worker must see no current AioContext");
        assertEquals(42, drive(t).join());
        assertSame(ThreadPool.of(ctx), ThreadPool.of(ctx), "one shared pool per context");
    }

    @Test
    @Timeout(5)
    void runInWorkerResumesInTheHomeThread() {
        var worker = new AtomicReference<Thread>();
        var resumedOn = new AtomicReference<Thread>();
        CompletableFuture<Long> f = ThreadPool.runInWorker("hop", () -> {
            worker.set(Thread.currentThread());
            return 20L;
        }).thenApply(v -> {
            resumedOn.set(Thread.currentThread());
            return v + 1;
        }).toCompletableFuture();
        while (!f.isDone()) {
            ctx.poll(true);
        }
        assertEquals(21L, f.join());
        assertSame(Thread.currentThread(), resumedOn.get());
        assertTrue(worker.get() != Thread.currentThread());
    }

    @Test
    @Timeout(5)
    void runInWorkerOutsideAContextIsRefused() throws Exception {
        var error = new AtomicReference<Throwable>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                ThreadPool.runInWorker("nowhere", () -> 1);
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.join();
        assertInstanceOf(IllegalStateException.class, error.get());
    }

    @Test
    @Timeout(5)
    void failedWorkCompletesExceptionallyAndIsCounted() {
        ThreadPool pool = privatePool(0, 2, Duration.ofSeconds(10));
        var f = drive(pool.submit("fail", () -> {
            throw new java.io.IOException("EIO");
        }));
        Throwable cause = assertThrows(java.util.concurrent.CompletionException.class, f::join).getCause();
        assertInstanceOf(java.io.IOException.class, cause);
        ThreadPoolStats s = pool.stats();
        assertEquals(1, s.submitted());
        assertEquals(1, s.completed());
        assertEquals(1, s.failed());
        assertEquals(0, s.cancelled());
    }

    /** test-thread-pool.c test_cancel: 100 submits, some cancelled while queued. */
    @Test
    @Timeout(10)
    void hundredSubmitsWithSomeCancelled() {
        ThreadPool pool = privatePool(0, 4, Duration.ofSeconds(10));
        var gate = new CountDownLatch(1);
        int n = 100;
        var ran = new AtomicInteger[n];
        List<Threadlet<Integer>> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            ran[i] = new AtomicInteger();
            ts.add(pool.submit("t" + i, () -> {
                gate.await();
                ran[id].incrementAndGet();
                return id;
            }));
        }
        // At most 4 can have started (max threads); cancel every even one.
        boolean[] cancelled = new boolean[n];
        int cancelCount = 0;
        for (int i = 0; i < n; i += 2) {
            cancelled[i] = ts.get(i).cancel();
            if (cancelled[i]) {
                cancelCount++;
            }
        }
        assertTrue(cancelCount >= 50 - 4, "queued threadlets must be cancellable, got " + cancelCount);
        gate.countDown();
        // Now the loop delivers every completion, cancelled ones included.
        for (int i = 0; i < n; i++) {
            CompletableFuture<Integer> f = drive(ts.get(i));
            if (cancelled[i]) {
                assertCancelled(f);
                assertEquals(0, ran[i].get(), "cancelled work must never run");
                assertEquals(Threadlet.State.CANCELLED, ts.get(i).state());
            } else {
                assertEquals(i, f.join());
                assertEquals(1, ran[i].get());
            }
        }
        ThreadPoolStats s = pool.stats();
        assertEquals(n, s.submitted());
        assertEquals(cancelCount, s.cancelled());
        assertEquals(n - cancelCount, s.completed());
        assertEquals(0, s.queueDepth());
        assertTrue(s.peakThreads() <= 4);
    }

    /** One atomic state: whichever of cancel and start wins, the other side sees it. */
    @Test
    @Timeout(20)
    void cancelRacingStartHasExactlyOneWinner() {
        ThreadPool pool = privatePool(2, 2, Duration.ofSeconds(10));
        int wins = 0;
        for (int i = 0; i < 3000; i++) {
            var ran = new AtomicBoolean();
            Threadlet<Integer> t = pool.submit("race", () -> {
                ran.set(true);
                return 7;
            });
            for (int spin = i % 64; spin > 0; spin--) {
                Thread.onSpinWait();   // vary the moment of the cancel across the start
            }
            boolean cancelled = t.cancel();
            CompletableFuture<Integer> f = drive(t);
            if (cancelled) {
                wins++;
                assertCancelled(f);
                assertFalse(ran.get(), "work ran although cancel returned true");
            } else {
                assertEquals(7, f.join());
                assertTrue(ran.get());
            }
        }
        ThreadPoolStats s = pool.stats();
        assertEquals(wins, s.cancelled());
        assertEquals(3000 - wins, s.completed());
    }

    @Test
    @Timeout(5)
    void cancelOfRunningOrFinishedWorkFailsAndTheResultIsDelivered() {
        ThreadPool pool = privatePool(0, 1, Duration.ofSeconds(10));
        var started = new CountDownLatch(1);
        var gate = new CountDownLatch(1);
        Threadlet<String> running = pool.submit("running", () -> {
            started.countDown();
            gate.await();
            return "ran";
        });
        awaitTrue("work started", () -> started.getCount() == 0);
        assertFalse(running.cancel(), "started work cannot be cancelled");
        gate.countDown();
        // Finished on the worker, completion not yet delivered: cancel still loses.
        awaitTrue("work done", () -> running.state() == Threadlet.State.DONE);
        assertFalse(running.cancel());
        assertEquals("ran", drive(running).join());
        assertEquals(0, pool.stats().cancelled());
    }

    @Test
    @Timeout(20)
    void cancelRacingCompletionNeverLosesTheResult() {
        ThreadPool pool = privatePool(1, 1, Duration.ofSeconds(10));
        for (int i = 0; i < 2000; i++) {
            int id = i;
            Threadlet<Integer> t = pool.submit("quick", () -> id);
            awaitTrue("started", () -> t.state() != Threadlet.State.QUEUED);
            for (int spin = i % 32; spin > 0; spin--) {
                Thread.onSpinWait();
            }
            assertFalse(t.cancel());
            assertEquals(id, drive(t).join());
        }
    }

    @Test
    @Timeout(5)
    void completionsThatFinishedTogetherAreDeliveredByOneLoopIteration() {
        ThreadPool pool = privatePool(0, 4, Duration.ofSeconds(10));
        List<Threadlet<Integer>> ts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int id = i;
            ts.add(pool.submit("batch", () -> id));
        }
        awaitTrue("all done on workers", () -> ts.stream().allMatch(t -> t.state() == Threadlet.State.DONE));
        var delivered = new AtomicInteger();
        ts.forEach(t -> t.result().thenRun(delivered::incrementAndGet));
        ctx.poll(true);   // one iteration: the single completion BH delivers the whole batch
        assertEquals(10, delivered.get());
    }

    /** The completion BH re-arms itself before each callback, so a callback may poll for a sibling. */
    @Test
    @Timeout(5)
    void callbackMayPollForASiblingCompletedInTheSameBatch() {
        ThreadPool pool = privatePool(2, 2, Duration.ofSeconds(10));
        Threadlet<Integer> a = pool.submit("a", () -> 1);
        Threadlet<Integer> b = pool.submit("b", () -> 2);
        awaitTrue("both done on workers", () -> a.state() == Threadlet.State.DONE && b.state() == Threadlet.State.DONE);
        var sum = new AtomicInteger();
        CompletableFuture<Integer> fb = b.result().toCompletableFuture();
        CompletableFuture<Integer> fa = a.result().toCompletableFuture();
        CompletableFuture<Void> both = fa.thenAccept(v -> {
            // Nested loop iteration inside a completion: only a re-armed BH can deliver b now.
            while (!fb.isDone()) {
                ctx.poll(true);
            }
            sum.set(v + fb.join());
        });
        CompletableFuture<Void> other = fb.thenAccept(v -> {
            while (!fa.isDone()) {
                ctx.poll(true);
            }
        });
        while (!both.isDone() || !other.isDone()) {
            ctx.poll(true);
        }
        assertEquals(3, sum.get());
    }

    @Test
    @Timeout(10)
    void growsToMaxUnderLoadAndShrinksToMinWhenIdle() {
        ThreadPool pool = privatePool(1, 4, Duration.ofMillis(50));
        assertEquals(1, pool.stats().threads(), "min threads start at once");
        var gate = new CountDownLatch(1);
        var running = new AtomicInteger();
        var maxRunning = new AtomicInteger();
        List<Threadlet<Integer>> ts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ts.add(pool.submit("load", () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                gate.await();
                running.decrementAndGet();
                return 0;
            }));
        }
        awaitTrue("4 workers busy", () -> running.get() == 4);
        assertEquals(4, pool.stats().threads());
        assertEquals(8, pool.stats().queueDepth());
        gate.countDown();
        ts.forEach(this::drive);
        assertEquals(4, maxRunning.get());
        assertEquals(4, pool.stats().peakThreads());
        awaitTrue("idle workers exit down to min", () -> pool.stats().threads() == 1);
        assertTrue(pool.stats().waitNanosTotal() > 0);
    }

    @Test
    @Timeout(10)
    void privatePoolNeverRunsMoreThanMaxConcurrently() {
        ThreadPool pool = privatePool(0, 3, Duration.ofSeconds(10));
        var running = new AtomicInteger();
        var maxRunning = new AtomicInteger();
        List<Threadlet<Integer>> ts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ts.add(pool.submit("bounded", () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                for (int spin = 0; spin < 2000; spin++) {
                    Thread.onSpinWait();
                }
                running.decrementAndGet();
                return 0;
            }));
        }
        ts.forEach(this::drive);
        assertTrue(maxRunning.get() <= 3, "observed " + maxRunning.get() + " concurrent workers");
        assertTrue(pool.stats().peakThreads() <= 3);
    }

    @Test
    @Timeout(10)
    void limitsChangeAtRunTime() {
        ThreadPool pool = privatePool(0, 1, Duration.ofSeconds(30));
        pool.setLimits(3, 3);
        assertEquals(3, pool.stats().threads(), "raising min starts workers at once");
        // The idle timeout is long: only the lowered max can make workers leave this fast.
        pool.setLimits(1, 1);
        awaitTrue("workers above max exit", () -> pool.stats().threads() == 1);
        assertThrows(IllegalArgumentException.class, () -> pool.setLimits(2, 1));
        assertThrows(IllegalArgumentException.class, () -> pool.setLimits(0, 0));
        assertEquals(5, drive(pool.submit("after", () -> 5)).join());
    }

    @Test
    @Timeout(10)
    void closingTheContextStopsThePoolsWorkers() throws Exception {
        ThreadPool pool = ThreadPool.of(ctx);
        pool.setLimits(0, 1);
        var workers = new ArrayList<Thread>();
        var started = new CountDownLatch(1);
        var gate = new CountDownLatch(1);
        Threadlet<Integer> first = pool.submit("first", () -> {
            synchronized (workers) {
                workers.add(Thread.currentThread());
            }
            started.countDown();
            gate.await();
            return 1;
        });
        var ran = new AtomicInteger();
        List<Threadlet<Integer>> queued = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            queued.add(pool.submit("queued", () -> {
                ran.incrementAndGet();
                return 2;
            }));
        }
        awaitTrue("first started", () -> started.getCount() == 0);
        Thread.ofPlatform().start(gate::countDown);   // close() waits for the running threadlet
        ctxClosed = true;
        ctx.close();
        assertEquals(1, first.result().toCompletableFuture().getNow(-1));
        int cancelled = 0;
        for (Threadlet<Integer> t : queued) {
            CompletableFuture<Integer> f = t.result().toCompletableFuture();
            assertTrue(f.isDone(), "every stage is completed by close");
            if (f.isCompletedExceptionally()) {
                cancelled++;
            }
        }
        assertEquals(5 - ran.get(), cancelled);
        for (Thread w : workers) {
            w.join(5000);
            assertFalse(w.isAlive(), w.getName() + " still alive after close");
        }
        assertEquals(0, pool.stats().threads());
        assertThrows(RejectedExecutionException.class, () -> pool.submit("late", () -> 0));
    }
}
