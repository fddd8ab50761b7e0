package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MainLoopTest {
    private final MainLoop mainLoop = new MainLoop().start();

    @AfterEach
    void stop() {
        mainLoop.stop();
    }

    @Test
    @Timeout(10)
    void qmpTaskRunsWithTheGlobalLockHeldOnMainLoop() throws Exception {
        var held = new CompletableFuture<Boolean>();
        var thread = new CompletableFuture<Thread>();
        mainLoop.context().runOnce("qmp:query-version", () -> {
            held.complete(GlobalLock.isHeldByCurrentThread());
            thread.complete(Thread.currentThread());
        });
        assertTrue(held.get(5, TimeUnit.SECONDS));
        assertSame(mainLoop.thread(), thread.get());
    }

    @Test
    @Timeout(10)
    void globalLockIsDroppedWhileTheLoopSleepsAndTasksWaitForIt() throws Exception {
        // The loop is idle: it sleeps in epoll_wait without the lock, so we can take it.
        assertTrue(GlobalLock.tryLock(5, TimeUnit.SECONDS));
        var ran = new CountDownLatch(1);
        try {
            mainLoop.context().runOnce("qmp:blocked", ran::countDown);
            assertFalse(ran.await(50, TimeUnit.MILLISECONDS), "the task needs the GlobalLock we hold");
        } finally {
            GlobalLock.unlock();
        }
        assertTrue(ran.await(5, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(10)
    void globalLockIsNotReentrantAndAssertsItsHolder() throws Exception {
        assertThrows(IllegalStateException.class, GlobalLock::assertHeld);
        var error = new CompletableFuture<Throwable>();
        mainLoop.context().runOnce("qmp:relock", () -> {
            try {
                GlobalLock.lock();
                error.complete(null);
            } catch (Throwable e) {
                error.complete(e);
            }
        });
        assertTrue(error.get(5, TimeUnit.SECONDS) instanceof IllegalStateException);
    }

    @Test
    @Timeout(10)
    void stopRunsTasksQueuedBeforeIt() throws Exception {
        MainLoop other = new MainLoop().start();
        int[] n = {0};
        for (int i = 0; i < 100; i++) other.context().runOnce("pending", () -> n[0]++);
        other.stop();
        assertEquals(100, n[0]);   // join() orders the loop's writes before our read
        assertTrue(other.context().isClosed());
    }
}
