package qmpd.block.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The connection's direct-buffer pool: a full queue of requests reuses buffers, never allocates. */
class BufferPoolTest {

    private static List<ByteBuffer> take(BufferPool pool, int n, int length) {
        List<ByteBuffer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ByteBuffer b = pool.take(length);
            assertTrue(b.isDirect());
            assertEquals(0, b.position());
            assertEquals(length, b.limit());
            out.add(b);
        }
        return out;
    }

    private static int reused(List<ByteBuffer> first, List<ByteBuffer> second) {
        Set<ByteBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.addAll(first);
        int n = 0;
        for (ByteBuffer b : second) {
            if (seen.contains(b)) n++;
        }
        return n;
    }

    @Test
    void aFullQueueOfSmallRequestsReusesEveryBuffer() {
        BufferPool pool = new BufferPool();
        List<ByteBuffer> first = take(pool, NbdConnection.MAX_IN_FLIGHT, 4096);
        first.forEach(pool::give);
        List<ByteBuffer> second = take(pool, NbdConnection.MAX_IN_FLIGHT, 4096);
        assertEquals(NbdConnection.MAX_IN_FLIGHT, reused(first, second), "every 4 KiB buffer came back");
    }

    @Test
    void largeClassesKeepABoundedNumber() {
        BufferPool pool = new BufferPool();
        List<ByteBuffer> mib = take(pool, 40, 1 << 20);
        mib.forEach(pool::give);
        assertEquals(32, reused(mib, take(pool, 40, 1 << 20)), "32 MiB of 1 MiB buffers kept");

        List<ByteBuffer> huge = take(pool, 4, 32 << 20);
        huge.forEach(pool::give);
        assertEquals(2, reused(huge, take(pool, 4, 32 << 20)), "at least two of the largest kept");
    }

    @Test
    void aBufferIsHandedOutCleared() {
        BufferPool pool = new BufferPool();
        ByteBuffer b = pool.take(3000);
        b.position(100);
        pool.give(b);
        ByteBuffer again = pool.take(4000);
        assertSame(b, again, "same 4 KiB class");
        assertEquals(0, again.position());
        assertEquals(4000, again.limit());
    }
}
