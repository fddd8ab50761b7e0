package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.AioWait;
import qmpd.aio.PollParams;

/** AIO_WAIT_WHILE from the main loop on IOThreads, and the traps it must avoid (STYLE.md §3). */
class AioWaitTest {
    private final MainLoop mainLoop = new MainLoop().start();
    private final IOThread io0 = IOThread.create("wait0", PollParams.IOTHREAD_DEFAULT).start();
    private final IOThread io1 = IOThread.create("wait1", PollParams.IOTHREAD_DEFAULT).start();

    @AfterEach
    void stop() {
        io0.stop();
        io1.stop();
        mainLoop.stop();
    }

    /** Runs {@code task} as a QMP command would: in the main loop, GlobalLock held. */
    private <T> T inMainLoop(java.util.concurrent.Callable<T> task) throws Exception {
        var result = new CompletableFuture<T>();
        mainLoop.context().runOnce("qmp:test", () -> {
            try {
                result.complete(task.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(15)
    void contextAcquiredTwiceByTheMainLoopStillLetsItsIOThreadProgressDuringAWait() throws Exception {
        // QEMU's savevm hang (trap 1): a wait that released one level of a recursive lock starved
        // the IOThread. Ours releases every level and takes them back.
        AioContext ctx = io0.context();
        String ranOn = inMainLoop(() -> {
            GlobalLock.assertHeld();
            ctx.acquire();
            ctx.acquire();
            try {
                var done = new AtomicBoolean();
                var thread = new String[1];
                ctx.runOnce("io-work", () -> {
                    thread[0] = Thread.currentThread().getName();
                    done.set(true);   // the IOThread's productive iteration kicks the waiter
                });
                AioWait.waitWhile(ctx, () -> !done.get());
                assertEquals(2, ctx.acquiredLevels(), "both levels taken back");
                return thread[0];
            } finally {
                ctx.release();
                ctx.release();
            }
        });
        assertEquals("iothread-wait0", ranOn);
        assertEquals(0, AioWait.waiters());
    }

    @Test
    @Timeout(15)
    void waitOnItsOwnContextInTheHomeThreadPollsThatContext() throws Exception {
        AioContext ctx = io0.context();
        var result = new CompletableFuture<Integer>();
        ctx.runOnce("waiter", () -> {
            var n = new AtomicInteger();
            for (int i = 0; i < 3; i++) ctx.runOnce("step", n::incrementAndGet);
            AioWait.waitWhile(ctx, () -> n.get() < 3);
            result.complete(n.get());
        });
        assertEquals(3, result.get(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(15)
    void workerThreadKickWakesTheMainLoopWaiter() throws Exception {
        boolean woke = inMainLoop(() -> {
            var flag = new AtomicBoolean();
            Thread.ofPlatform().start(() -> {
                flag.set(true);
                AioWait.kick();   // code outside any IOThread kicks explicitly (aio_wait_kick)
            });
            AioWait.waitWhile(io1.context(), () -> !flag.get());
            return flag.get();
        });
        assertTrue(woke);
    }

    @Test
    @Timeout(15)
    void waitingFromOneIOThreadOnAnotherIsRefused() throws Exception {
        // Trap 6: never wait from one IOThread on another; go through the main loop.
        var error = new CompletableFuture<Throwable>();
        io0.context().runOnce("bad-wait", () -> {
            try {
                AioWait.waitWhile(io1.context(), () -> false);
                error.complete(null);
            } catch (Throwable e) {
                error.complete(e);
            }
        });
        assertTrue(error.get(10, TimeUnit.SECONDS) instanceof IllegalStateException);
    }

    @Test
    @Timeout(15)
    void waitingWhileHoldingAnotherContextIsRefused() throws Exception {
        // Trap 2: polling would run callbacks inside the critical section on io1.
        Throwable error = inMainLoop(() -> {
            io1.context().acquire();
            try {
                AioWait.waitWhile(io0.context(), () -> false);
                return null;
            } catch (IllegalStateException e) {
                return e;
            } finally {
                io1.context().release();
            }
        });
        assertTrue(error instanceof IllegalStateException);
    }

    @Test
    @Timeout(15)
    void mainLoopTaskRunsOnTheMainLoopThreadWithTheGlobalLock() throws Exception {
        Thread t = inMainLoop(() -> {
            GlobalLock.assertHeld();
            assertSame(mainLoop.context(), AioContext.current());
            return Thread.currentThread();
        });
        assertSame(mainLoop.thread(), t);
        assertEquals("main-loop", t.getName());
    }
}
