package qmpd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.BottomHalf;
import qmpd.aio.PollParams;
import qmpd.config.error.QmpException;

class IOThreadTest {
    @Test
    @Timeout(10)
    void stopRunsPendingBhsAndWhatTheySchedule() {
        IOThread io = IOThread.create("stop0", PollParams.IOTHREAD_DEFAULT).start();
        AioContext ctx = io.context();
        List<String> ran = new ArrayList<>();   // written by the IOThread, read after join()
        ctx.acquire();   // hold the loop off so the BHs are still pending when stop() queues its own
        try {
            for (int i = 0; i < 50; i++) ctx.runOnce("pending", () -> ran.add("pending"));
            ctx.runOnce("chains", () -> ctx.runOnce("chained", () -> ran.add("chained")));
        } finally {
            ctx.release();
        }
        io.stop();
        assertEquals(51, ran.size());
        assertEquals("chained", ran.get(50));
        assertTrue(ctx.isClosed());
        assertTrue(!io.thread().isAlive());
        io.stop();   // idempotent
    }

    @Test
    @Timeout(10)
    void stopReportsALeakedReusableBhByName() {
        IOThread io = IOThread.create("leak0", PollParams.IOTHREAD_DEFAULT).start();
        BottomHalf bh = io.context().bhNew("nbd-client-reply", () -> {});
        bh.schedule();
        var e = assertThrows(IllegalStateException.class, io::stop);
        assertTrue(e.getMessage().contains("nbd-client-reply"), e.getMessage());
    }

    @Test
    @Timeout(10)
    void threadIsNamedAndReportsItsKernelThreadId() throws Exception {
        IOThread io = IOThread.create("tid0", PollParams.IOTHREAD_DEFAULT).start();
        try {
            assertEquals("iothread-tid0", io.thread().getName());
            int tid = io.nativeThreadId();
            assertTrue(tid > 0);
            assertNotEquals((int) ProcessHandle.current().pid(), tid);
            assertTrue(Files.isDirectory(Path.of("/proc/self/task/" + tid)), "a thread of this process");
            var current = new CompletableFuture<AioContext>();
            io.context().runOnce("current", () -> current.complete(AioContext.current()));
            assertSame(io.context(), current.get(5, TimeUnit.SECONDS));
        } finally {
            io.stop();
        }
    }

    @Test
    @Timeout(10)
    void registryAddsLooksUpAndRemovesById() {
        var registry = new IOThreadRegistry();
        IOThread a = IOThread.create("reg-a", PollParams.IOTHREAD_DEFAULT);
        IOThread b = IOThread.create("reg-b", PollParams.NO_POLLING);
        registry.add(b);
        registry.add(a);
        assertSame(a, registry.lookup("reg-a"));
        assertEquals(List.of(a, b), registry.all());
        IOThread clash = IOThread.create("reg-a", PollParams.NO_POLLING);
        var dup = assertThrows(QmpException.class, () -> registry.add(clash));
        assertEquals("GenericError", dup.errorClass());
        clash.stop();
        assertSame(b, registry.remove("reg-b"));
        assertNull(registry.lookup("reg-b"));
        assertThrows(QmpException.class, () -> registry.remove("reg-b"));
        a.stop();   // never started: closes the context
        b.stop();
    }
}
