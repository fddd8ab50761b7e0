package qmpd.aio.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qmpd.aio.AioContext;
import qmpd.aio.PollParams;
import qmpd.loop.IOThread;

/** The pool of a real IOThread: the hop goes iothread → worker → iothread, and stop() ends the workers. */
class ThreadPoolOnIOThreadTest {
    @Test
    @Timeout(10)
    void runInWorkerHopsFromTheIOThreadAndBack() throws Exception {
        IOThread io = IOThread.create("io0", PollParams.IOTHREAD_DEFAULT).start();
        var worker = new AtomicReference<Thread>();
        var workerCtx = new AtomicReference<AioContext>(io.context());
        var resumedOn = new AtomicReference<Thread>();
        var resumedCtx = new AtomicReference<AioContext>();
        var done = new CompletableFuture<String>();
        try {
            io.context().runOnce("hop", () -> ThreadPool.runInWorker("stat", () -> {
                worker.set(Thread.currentThread());
                workerCtx.set(AioContext.current());
                return "size";
            }).whenComplete((v, e) -> {
                resumedOn.set(Thread.currentThread());
                resumedCtx.set(AioContext.current());
                if (e != null) {
                    done.completeExceptionally(e);
                } else {
                    done.complete(v);
                }
            }));
            assertEquals("size", done.get(5, TimeUnit.SECONDS));
            assertSame(io.thread(), resumedOn.get(), "the continuation runs in the IOThread");
            assertSame(io.context(), resumedCtx.get());
            assertNull(workerCtx.get(), "a worker has no current AioContext");
            assertTrue(worker.get().getName().startsWith("worker-io0-"), worker.get().getName());
        } finally {
            io.stop();   // closes the context, which closes its ThreadPool and ends the workers
        }
        worker.get().join(5000);
        assertFalse(worker.get().isAlive(), "worker outlived its IOThread");
    }
}
