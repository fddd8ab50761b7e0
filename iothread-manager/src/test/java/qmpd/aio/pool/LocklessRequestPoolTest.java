package qmpd.aio.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.aio.pool.Conditions.awaitTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import qmpd.aio.AioContext;

class LocklessRequestPoolTest {
    private final AioContext ctx = AioContext.createForCurrentThread("test");
    private final List<LocklessRequestPool> pools = new ArrayList<>();

    @AfterEach
    void close() {
        pools.forEach(LocklessRequestPool::close);
        ctx.close();
    }

    private LocklessRequestPool pool(int threads, int ring) {
        var p = new LocklessRequestPool(ctx, "ll", threads, ring);
        pools.add(p);
        return p;
    }

    /**
     * Contention: the submitter keeps every slot busy while workers flip done bits that share
     * words with other workers' slots (ring 8 and 20 split words; ring 64 does not).
     */
    @ParameterizedTest
    @CsvSource({"4, 8, 200000", "3, 20, 100000", "2, 64, 100000"})
    @Timeout(60)
    void everyRequestCompletesExactlyOnceWithItsOwnResult(int threads, int ring, int n) {
        LocklessRequestPool pool = pool(threads, ring);
        Thread home = Thread.currentThread();
        int[] hits = new int[n];
        var wrongThread = new AtomicInteger();
        var wrongValue = new AtomicInteger();
        var delivered = new int[1];
        int next = 0;
        while (next < n) {
            int id = next;
            var s = pool.trySubmit(() -> id * 31L + 7);
            if (s == null) {
                ctx.poll(true);   // full: let the completion BH free slots
                continue;
            }
            next++;
            s.thenAccept(v -> {
                if (Thread.currentThread() != home) {
                    wrongThread.incrementAndGet();
                }
                if (v != id * 31L + 7) {
                    wrongValue.incrementAndGet();
                }
                hits[id]++;
                delivered[0]++;
            });
        }
        while (delivered[0] < n) {
            ctx.poll(true);
        }
        assertEquals(0, wrongThread.get(), "completions must run in the home thread");
        assertEquals(0, wrongValue.get(), "a request got another request's result");
        for (int i = 0; i < n; i++) {
            assertEquals(1, hits[i], "request " + i + " completed " + hits[i] + " times");
        }
        assertEquals(0, pool.inFlight());
        LocklessRequestPool.Stats st = pool.stats();
        assertEquals(n, st.submitted());
        assertEquals(n, st.completed());
        assertEquals(threads * ring, st.capacity());
    }

    @Test
    @Timeout(10)
    void submitWhenFullFailsAndSucceedsAgainAfterCompletions() {
        LocklessRequestPool pool = pool(1, 2);
        var gate = new CountDownLatch(1);
        var a = pool.submit(() -> gate.await(5, java.util.concurrent.TimeUnit.SECONDS));
        var b = pool.submit(() -> gate.await(5, java.util.concurrent.TimeUnit.SECONDS));
        assertNull(pool.trySubmit(() -> 0), "every slot is in flight");
        assertThrows(RejectedExecutionException.class, () -> pool.submit(() -> 0));
        assertEquals(2, pool.stats().rejected());
        gate.countDown();
        CompletableFuture<Void> both = CompletableFuture.allOf(a.toCompletableFuture(), b.toCompletableFuture());
        while (!both.isDone()) {
            ctx.poll(true);
        }
        assertEquals(0, pool.inFlight());
        var c = pool.trySubmit(() -> 3).toCompletableFuture();
        while (!c.isDone()) {
            ctx.poll(true);
        }
        assertEquals(3, c.join());
    }

    @Test
    @Timeout(10)
    void submitsGoRoundRobinAcrossWorkers() {
        LocklessRequestPool pool = pool(4, 4);
        var gate = new CountDownLatch(1);
        var started = new CountDownLatch(4);
        List<CompletableFuture<String>> fs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fs.add(pool.<String>submit(() -> {
                started.countDown();
                gate.await();   // all four at once: only possible on four different workers
                return Thread.currentThread().getName();
            }).toCompletableFuture());
        }
        awaitTrue("four workers started", () -> started.getCount() == 0);
        gate.countDown();
        Set<String> names = new HashSet<>();
        for (var f : fs) {
            while (!f.isDone()) {
                ctx.poll(true);
            }
            names.add(f.join());
        }
        assertEquals(4, names.size());
        assertTrue(names.stream().allMatch(n -> n.startsWith("worker-test-ll-")), names.toString());
    }

    @Test
    @Timeout(10)
    void failureIsDeliveredAsExceptionalCompletion() {
        LocklessRequestPool pool = pool(2, 2);
        var f = pool.submit(() -> {
            throw new java.io.IOException("EIO");
        }).toCompletableFuture();
        while (!f.isDone()) {
            ctx.poll(true);
        }
        Throwable e = assertThrows(CompletionException.class, f::join).getCause();
        assertInstanceOf(java.io.IOException.class, e);
    }

    @Test
    @Timeout(10)
    void callbackMayPollForASiblingCompletedInTheSameBatch() {
        LocklessRequestPool pool = pool(2, 1);
        var fa = pool.submit(() -> 1).toCompletableFuture();
        var fb = pool.submit(() -> 2).toCompletableFuture();
        var sum = new AtomicInteger();
        CompletableFuture<Void> a = fa.thenAccept(v -> {
            while (!fb.isDone()) {
                ctx.poll(true);   // only a re-armed completion BH can deliver b now
            }
            sum.addAndGet(v + fb.join());
        });
        CompletableFuture<Void> b = fb.thenAccept(v -> {
            while (!fa.isDone()) {
                ctx.poll(true);
            }
        });
        while (!a.isDone() || !b.isDone()) {
            ctx.poll(true);
        }
        assertEquals(3, sum.get());
    }

    @Test
    @Timeout(10)
    void closeFinishesAndDeliversRequestsInFlight() {
        var pool = new LocklessRequestPool(ctx, "closing", 2, 4);
        List<CompletableFuture<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int id = i;
            fs.add(pool.<Integer>submit(() -> id).toCompletableFuture());
        }
        pool.close();
        for (int i = 0; i < 8; i++) {
            assertTrue(fs.get(i).isDone());
            assertEquals(i, fs.get(i).join());
        }
        assertThrows(RejectedExecutionException.class, () -> pool.submit(() -> 0));
        assertEquals(8, pool.stats().completed());
    }
}
