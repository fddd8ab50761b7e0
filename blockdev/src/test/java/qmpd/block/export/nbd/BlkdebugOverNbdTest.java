package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import qmpd.block.BlockNode;
import qmpd.block.BlockStats;
import qmpd.config.schema.block.BlkdebugOptions.InjectError;
import qmpd.config.schema.block.BlkdebugOptions.IoType;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.IOThread;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault injection with the blkdebug filter under a raw node on a real file, exported over NBD in an
 * IOThread: injected errors reach qemu-io and a raw NBD client as the right NBD error codes, are
 * counted exactly in the nodes' statistics, and delayed requests never wedge a context move, an
 * export shutdown or a client that vanishes.
 */
@Timeout(120)
class BlkdebugOverNbdTest {

    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;
    private NbdTestBed bed;
    private Path image;
    private NbdExport export;

    @BeforeEach
    void setUp() throws IOException {
        bed = NbdTestBed.unix(dir);
        image = bed.sparseFile("disk.raw", SIZE);
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    /** file -> blkdebug (d0, with {@code rules}) -> raw (n0), exported writable as "disk". */
    private BlockNode exportWithRules(List<InjectError> rules) {
        BlockNode top = bed.h.onMain(() -> {
            bed.h.graph.add(BlockdevOptions.File.of("f0", image.toString()));
            bed.h.graph.add(new BlockdevOptions.Blkdebug("d0", "f0", null, rules, List.of(), false));
            return bed.h.graph.add(new BlockdevOptions.Raw("n0", "d0", null, 0, null, false));
        });
        export = bed.export("disk", top, true);
        return top;
    }

    private BlockNode node(String name) {
        return bed.h.onMain(() -> bed.h.graph.require(name));
    }

    private static InjectError rule(String event, IoType type, int errno, long sector, boolean once, long delayNs) {
        return new InjectError(event, 0, type, errno, sector, once, false, delayNs);
    }

    private static Cli.Result qemuIo(String uri, String... commands) {
        List<String> cmd = new java.util.ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(uri);
        return Cli.run(60, cmd.toArray(String[]::new));
    }

    /** Polls (bounded) until no node of the graph has a request in flight; fails with the counts. */
    private void awaitIdle() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Map<String, Integer> busy = bed.h.onMain(() -> {
                Map<String, Integer> m = new HashMap<>();
                for (BlockNode n : bed.h.graph.nodes()) {
                    if (n.inFlight() != 0) {
                        m.put(n.nodeName(), n.inFlight());
                    }
                }
                return m;
            });
            if (busy.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("requests still in flight: " + busy);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);   // a poll interval
        }
    }

    /** Polls (bounded) until the filter holds at least {@code n} delayed requests: the fault is in place. */
    private void awaitDelayed(int n) {
        BlockNode d0 = node("d0");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (d0.inFlight() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the filter never held " + n + " requests: " + d0.inFlight());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);   // a poll interval
        }
    }

    @Test
    void qemuIoSeesEioAndEnospcOnlyOnTheMatchingSectors() {
        Cli.assumeInstalled("qemu-io");
        // Reads covering sector 8 fail with EIO (a loop iteration later), writes covering sector 16
        // with ENOSPC (before the filter returns).
        exportWithRules(List.of(
                rule("read_aio", IoType.READ, 5, 8, false, 0),
                new InjectError("write_aio", 0, IoType.WRITE, 28, 16, false, true, 0)));   // immediately
        Cli.Result r = qemuIo(bed.uri("disk"),
                "write -P 0x11 0 4k",      // sectors 0-7: fine
                "read -P 0x11 0 4k",       // fine
                "read 4k 512",             // sector 8: EIO
                "read 0 64k",              // covers sector 8: EIO
                "write -P 0x22 8k 512",    // sector 16: ENOSPC
                "write -P 0x33 12k 4k",    // sectors 24-31: fine
                "read -P 0x33 12k 4k");    // fine
        String all = r.out() + r.err();
        assertEquals(2, count(all, "read failed: Input/output error"), all);
        assertEquals(1, count(all, "write failed: No space left on device"), all);
        assertEquals(2, count(all, "wrote "), all);
        assertEquals(2, count(all, "read 4096/4096"), all);
        assertFalse(all.contains("Pattern verification failed"), all);

        // Counted exactly, in the filter and in the exported node; the file saw none of it.
        BlockStats d0 = node("d0").stats();
        BlockStats n0 = node("n0").stats();
        assertEquals(2, d0.failed(BlockStats.Kind.READ));
        assertEquals(1, d0.failed(BlockStats.Kind.WRITE));
        assertEquals(2, n0.failed(BlockStats.Kind.READ));
        assertEquals(1, n0.failed(BlockStats.Kind.WRITE));
        assertEquals(0, node("f0").stats().failed(BlockStats.Kind.READ));
        assertEquals(0, node("f0").stats().failed(BlockStats.Kind.WRITE));
        assertEquals(2, n0.ops(BlockStats.Kind.READ));
        assertEquals(2, n0.ops(BlockStats.Kind.WRITE));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void nbdErrorCodesFollowTheInjectedErrno() throws IOException {
        // One errno per request type, every rule once. Write-zeroes and trim pass no event through
        // raw: they meet the rules the last write armed. A flush emits flush_to_os, then flush_to_disk.
        exportWithRules(List.of(
                rule("read_aio", IoType.READ, 1, -1, true, 0),             // EPERM
                rule("write_aio", IoType.WRITE, 28, -1, true, 0),          // ENOSPC
                rule("flush_to_disk", IoType.FLUSH, 5, -1, true, 0),       // EIO
                rule("write_aio", IoType.WRITE_ZEROES, 12, -1, true, 0),   // ENOMEM
                rule("write_aio", IoType.DISCARD, 75, -1, true, 0),        // EOVERFLOW
                rule("flush_to_os", IoType.FLUSH, 999, -1, true, 0)));     // unknown to NBD: EINVAL
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 7);
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertEquals(Nbd.EPERM, c.call(Nbd.CMD_READ, 0, 0, 4096, null).error());
            assertEquals(Nbd.ENOSPC, c.call(Nbd.CMD_WRITE, 0, 0, 4096, data).error());
            assertEquals(Nbd.ENOMEM, c.call(Nbd.CMD_WRITE_ZEROES, 0, 0, 4096, null).error());
            assertEquals(Nbd.EOVERFLOW, c.call(Nbd.CMD_TRIM, 0, 0, 4096, null).error());
            assertEquals(Nbd.EIO, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertEquals(Nbd.EINVAL, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            // Every rule has fired once and is gone: all of it works now, on the same connection.
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 0, 4096, data).error());
            assertArrayEquals(data, c.call(Nbd.CMD_READ, 0, 0, 4096, null).data());
            assertEquals(0, c.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertEquals(0, c.call(Nbd.CMD_WRITE_ZEROES, 0, 4096, 4096, null).error());
            assertEquals(0, c.call(Nbd.CMD_TRIM, 0, 8192, 4096, null).error());
        }
        BlockStats n0 = node("n0").stats();
        assertEquals(1, n0.failed(BlockStats.Kind.READ));
        assertEquals(1, n0.failed(BlockStats.Kind.WRITE));
        assertEquals(2, n0.failed(BlockStats.Kind.FLUSH));
        assertEquals(1, n0.failed(BlockStats.Kind.ZERO));
        assertEquals(1, n0.failed(BlockStats.Kind.DISCARD));
        NbdTestClient.assertServes(bed.address(), "disk", 0);
    }

    @Test
    void onceFiresOnceAndNonMatchingRequestsSucceed() {
        Cli.assumeInstalled("qemu-io");
        exportWithRules(List.of(rule("read_aio", null, 5, -1, true, 0)));
        Cli.Result r = qemuIo(bed.uri("disk"), "read 0 4k", "read 0 4k", "read 1M 4k", "write 0 4k");
        String all = r.out() + r.err();
        assertEquals(1, count(all, "read failed: Input/output error"), all);
        assertEquals(2, count(all, "read 4096/4096"), all);
        assertEquals(1, count(all, "wrote 4096/4096"), all);
        assertEquals(1, node("n0").stats().failed(BlockStats.Kind.READ));
        assertEquals(0, node("n0").stats().failed(BlockStats.Kind.WRITE));
    }

    /** Sends {@code n} reads (handles 1..n) without waiting for replies. */
    private static void sendReads(NbdTestClient c, int n) throws IOException {
        for (int i = 1; i <= n; i++) {
            c.request(Nbd.CMD_READ, 0, i, (long) i << 12, 4096, null);
        }
    }

    @Test
    void aContextMoveDrainsDelayedRequestsAndTheConnectionKeepsServing() throws IOException {
        // Every read waits 1 s in the filter; the read of sector 8 then fails.
        // (QEMU checks the rule listed last first.)
        exportWithRules(List.of(
                rule("read_aio", IoType.READ, 0, -1, false, 1_000_000_000L),
                rule("read_aio", IoType.READ, 5, 8, false, 1_000_000_000L)));
        IOThread io1 = bed.h.iothread("io1");
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            sendReads(c, 32);
            // All 32 held by the filter before the move: a read still on its way would be parked
            // by the drain and restarted in io1 right after it, and count as in flight below.
            awaitDelayed(32);
            // The move drains: it returns only once every delayed read has completed.
            bed.h.onMain(() -> bed.h.graph.setContext(bed.h.graph.require("n0"), io1.context()));
            assertEquals(0, node("d0").inFlight());
            assertEquals(io1.context(), node("d0").context());
            int failed = 0;
            for (int i = 0; i < 32; i++) {
                NbdTestClient.Reply r = c.reply();
                if (r.error() != 0) {
                    assertEquals(Nbd.EIO, r.error());
                    assertEquals(1, r.handle(), "only the read of sector 8 fails");
                    failed++;
                }
            }
            assertEquals(1, failed);
            // Same connection, new thread: more delayed requests, then a move back.
            sendReads(c, 8);
            awaitDelayed(8);
            bed.h.onMain(() -> bed.h.graph.setContext(bed.h.graph.require("n0"), bed.io.context()));
            for (int i = 0; i < 8; i++) {
                c.reply();
            }
            byte[] data = new byte[4096];
            assertEquals(0, c.call(Nbd.CMD_WRITE, 0, 1 << 20, 4096, data).error());
        }
        awaitIdle();
        assertEquals(2, node("n0").stats().failed(BlockStats.Kind.READ));
    }

    @Test
    void exportShutdownCompletesWhileRequestsAreDelayed() throws IOException {
        exportWithRules(List.of(rule("read_aio", IoType.READ, 0, -1, false, 1_000_000_000L)));
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            sendReads(c, 16);
            awaitDelayed(1);
            bed.shutdown(export, true);   // block-export-del mode=hard: returns once the client is gone
        }
        awaitIdle();
        bed.awaitNoConnections();
        // The nodes are free again: they can be deleted.
        bed.h.onMain(() -> {
            bed.h.graph.delete("n0");
            bed.h.graph.delete("d0");
            bed.h.graph.delete("f0");
        });
        assertTrue(bed.h.onMain(() -> bed.h.graph.nodes().isEmpty()));
    }

    @Test
    void aClientVanishingWithDelayedRequestsLeavesNothingInFlight() throws IOException {
        exportWithRules(List.of(
                rule("read_aio", null, 0, -1, false, 500_000_000L),
                rule("write_aio", null, 28, -1, false, 500_000_000L)));
        for (int round = 0; round < 3; round++) {
            try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", round % 2 == 0)) {
                sendReads(c, 24);
                c.request(Nbd.CMD_WRITE, 0, 100, 0, 4096, new byte[4096]);
                c.request(Nbd.CMD_FLUSH, 0, 101, 0, 0, null);
                awaitDelayed(1);
            }   // closed abruptly, every request still waiting in the filter
        }
        bed.awaitNoConnections();
        awaitIdle();
        try (NbdTestClient c = NbdTestClient.go(bed.address(), "disk", true)) {
            assertEquals(0, c.call(Nbd.CMD_READ, 0, 0, 4096, null).error(), "a read after the storm");
        }
    }
}
