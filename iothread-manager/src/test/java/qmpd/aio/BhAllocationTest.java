package qmpd.aio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hot path promise: scheduling a reusable BH allocates nothing (a CLQ node would be 24 bytes). */
class BhAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    @Timeout(30)
    void reusableBhScheduleAndRunDoNotAllocateOnceCompiled() {
        AioContext ctx = AioContext.createForCurrentThread("alloc");
        int[] runs = {0};
        BottomHalf bh = ctx.bhNew("counter", () -> runs[0]++);
        try {
            long self = Thread.currentThread().threadId();
            int batch = 10_000;
            long best = Long.MAX_VALUE;
            // The interpreter allocates while the JIT has not compiled the path yet (slower on a
            // loaded machine); a bounded number of batches, judged by the best one.
            for (int round = 0; round < 40 && best >= 8; round++) {
                long before = THREADS.getThreadAllocatedBytes(self);
                for (int i = 0; i < batch; i++) {
                    bh.schedule();
                    ctx.poll(false);
                }
                best = Math.min(best, (THREADS.getThreadAllocatedBytes(self) - before) / batch);
            }
            assertTrue(best < 8, "bytes allocated per schedule+poll: " + best);
            assertEquals(0, runs[0] % batch);
        } finally {
            bh.delete();
            ctx.close();
        }
    }
}
