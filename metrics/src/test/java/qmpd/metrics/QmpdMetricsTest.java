package qmpd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.metrics.Samples.value;
import static qmpd.metrics.Samples.values;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.aio.AioContext;
import qmpd.aio.PollParams;
import qmpd.aio.pool.ThreadPool;
import qmpd.block.BlockGraph;
import qmpd.block.BlockNode;
import qmpd.block.BlockOp;
import qmpd.block.BlockRequest;
import qmpd.block.export.nbd.NbdExport;
import qmpd.block.export.nbd.NbdServer;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;
import qmpd.loop.IOThread;

/** Meters read the core's counters exactly, follow objects' lifetimes, and pass promtool. */
@Timeout(30)
class QmpdMetricsTest {
    private AioContext ctx;
    private BlockGraph graph;
    private QmpdMetrics metrics;

    @BeforeEach
    void setUp() {
        ctx = AioContext.createForCurrentThread("main-test");   // the test thread is the home thread
        GlobalLock.lock();
        graph = BlockGraph.withBuiltinDrivers(ctx);
        metrics = new QmpdMetrics();
    }

    @AfterEach
    void tearDown() {
        metrics.close();
        graph.closeAll();
        GlobalLock.unlock();
        ctx.close();
    }

    private String text() {
        Scrape s = metrics.scrape(null);
        assertEquals(QmpdMetrics.TEXT_0_0_4, s.contentType());
        return s.body();
    }

    /** Submits one request and drives the test thread's loop until it completes. */
    private int io(BlockNode node, BlockOp op, long offset, int length) {
        int[] result = {Integer.MIN_VALUE};
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(length, 1));
        node.submit(new BlockRequest().set(op, offset, length, buf, 0, r -> result[0] = r.result()));
        while (result[0] == Integer.MIN_VALUE) {
            ctx.poll(true);
        }
        return result[0];
    }

    @Test
    void nWritesOfKnownSizeGiveExactlyNOperationsAndNTimesSizeBytes() {
        BlockNode d0 = graph.add(new BlockdevOptions.NullCo("d0", 1 << 20, true, 0, false));
        metrics.bindNode(d0);
        int n = 13;
        int size = 4096;
        for (int i = 0; i < n; i++) {
            assertEquals(size, io(d0, BlockOp.WRITE, (long) i * size, size));
        }
        assertEquals(512, io(d0, BlockOp.READ, 0, 512));
        io(d0, BlockOp.READ, 2 << 20, 512);   // beyond the end: refused before the driver

        String t = text();
        assertEquals(n, value(t, "qmpd_block_operations_total", "node=d0", "op=write", "iothread=main-test"));
        assertEquals((double) n * size, value(t, "qmpd_block_bytes_total", "node=d0", "op=write"));
        assertEquals(1, value(t, "qmpd_block_operations_total", "node=d0", "op=read"));
        assertEquals(512, value(t, "qmpd_block_bytes_total", "node=d0", "op=read"));
        assertEquals(1, value(t, "qmpd_block_invalid_total", "node=d0", "op=read"));
        assertEquals(0, value(t, "qmpd_block_failed_total", "node=d0", "op=write"));
        assertEquals(0, value(t, "qmpd_block_in_flight", "node=d0"));
        assertTrue(value(t, "qmpd_block_time_seconds_total", "node=d0", "op=write") >= 0);
    }

    @Test
    void latencyHistogramCountsEveryRequestOnceInItsBucket() {
        BlockNode slow = graph.add(new BlockdevOptions.NullCo("slow", 1 << 20, true, 3_000_000, false));   // 3 ms
        metrics.bindNode(slow);
        int n = 7;
        for (int i = 0; i < n; i++) {
            io(slow, BlockOp.READ, 0, 4096);
        }
        String t = text();
        assertEquals(n, value(t, "qmpd_block_latency_seconds_count", "node=slow", "op=read"));
        // Cumulative buckets: nothing at or under 2.5 ms, all seven by 5 ms... and by +Inf.
        assertEquals(0, value(t, "qmpd_block_latency_seconds_bucket", "node=slow", "op=read", "le=0.0025"));
        assertEquals(n, value(t, "qmpd_block_latency_seconds_bucket", "node=slow", "op=read", "le=+Inf"));
        double sum = value(t, "qmpd_block_latency_seconds_sum", "node=slow", "op=read");
        assertTrue(sum >= n * 0.003, "sum " + sum);
        assertEquals(0, value(t, "qmpd_block_latency_seconds_count", "node=slow", "op=write"));
        metrics.unbindNode("slow");
        assertFalse(text().contains("node=\"slow\""), "the histogram goes with the node");
    }

    @Test
    void nodeMetersDisappearWithTheNodeAndOthersStay() {
        BlockNode a = graph.add(new BlockdevOptions.NullCo("a", 1 << 20, true, 0, false));
        BlockNode b = graph.add(new BlockdevOptions.NullCo("b", 1 << 20, true, 0, false));
        metrics.bindNode(a);
        metrics.bindNode(b);
        assertEquals(5, values(text(), "qmpd_block_operations_total", "node=a").size());
        metrics.unbindNode("a");
        graph.delete("a");
        String t = text();
        assertTrue(values(t, "qmpd_block_operations_total", "node=a").isEmpty(), t);
        assertFalse(t.contains("node=\"a\""), t);
        assertEquals(5, values(t, "qmpd_block_operations_total", "node=b").size());
        metrics.bindNode(b);   // binding again replaces, never duplicates
        assertEquals(5, values(text(), "qmpd_block_operations_total", "node=b").size());
    }

    @Test
    void iothreadAndPoolMetersFollowTheIothreadAndCountItsWork() throws Exception {
        metrics.bindIothread(QmpdMetrics.MAIN_LOOP, ctx);
        IOThread io0 = IOThread.create("io0", PollParams.IOTHREAD_DEFAULT).start();
        try {
            metrics.bindIothread("io0", io0.context());
            int bhs = 25;
            java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(bhs);
            for (int i = 0; i < bhs; i++) {
                io0.context().runOnce("test-bh", ran::countDown);
            }
            assertTrue(ran.await(10, java.util.concurrent.TimeUnit.SECONDS));
            // Two threadlets through the test thread's pool, driven by its loop.
            int[] done = {0};
            ThreadPool.of(ctx).submit("w1", () -> 1).result().thenRun(() -> done[0]++);
            ThreadPool.of(ctx).submit("w2", () -> 2).result().thenRun(() -> done[0]++);
            while (done[0] < 2) {
                ctx.poll(true);
            }
            String t = text();
            assertTrue(value(t, "qmpd_aio_callbacks_total", "iothread=io0", "kind=bh") >= bhs, t);
            assertTrue(value(t, "qmpd_aio_iterations_total", "iothread=io0") >= 1);
            assertEquals(3, values(t, "qmpd_aio_time_seconds_total", "iothread=io0").size());
            assertEquals(1, values(t, "qmpd_aio_poll_window_seconds", "iothread=io0").size());
            assertEquals(2, value(t, "qmpd_pool_submitted_total", "iothread=main-loop"));
            assertEquals(2, value(t, "qmpd_pool_completed_total", "iothread=main-loop"));
            assertEquals(0, value(t, "qmpd_pool_cancelled_total", "iothread=main-loop"));
            assertEquals(0, value(t, "qmpd_pool_queue_depth", "iothread=io0"));

            metrics.unbindIothread("io0");
            t = text();
            assertFalse(t.contains("iothread=\"io0\""), t);
            assertEquals(1, values(t, "qmpd_aio_iterations_total", "iothread=main-loop").size());
        } finally {
            io0.stop();
        }
    }

    @Test
    void nbdExportCountsARealClientAndDisappearsWithTheExport(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        BlockNode d0 = graph.add(new BlockdevOptions.NullCo("d0", 1 << 20, true, 0, false));
        java.nio.file.Path sock = dir.resolve("nbd.sock");
        NbdServer nbd = NbdServer.start(ctx, java.net.UnixDomainSocketAddress.of(sock), 0);
        try {
            NbdExport e0 = nbd.addExport("e0", "disk", null, d0, false);
            metrics.bindExport(e0);
            assertEquals(0, value(text(), "qmpd_nbd_connections", "export=e0", "node=d0"));
            var client = new java.util.concurrent.CompletableFuture<java.nio.channels.SocketChannel>();
            Thread.ofVirtual().start(() -> {
                try {
                    client.complete(NbdClient.connect(sock, "disk"));
                } catch (Throwable t) {
                    client.completeExceptionally(t);
                }
            });
            // The server side runs in this thread's context: poll until the handshake is done.
            while (!client.isDone() || e0.connectionCount() == 0) {
                ctx.poll(false);
                Thread.onSpinWait();
            }
            assertEquals(1, value(text(), "qmpd_nbd_connections", "export=e0"));
            assertEquals(1, value(text(), "qmpd_nbd_connections_accepted_total", "export=e0"));
            assertEquals(0, value(text(), "qmpd_nbd_connections_refused_total", "export=e0"));
            client.get().close();
            while (e0.connectionCount() > 0) {
                ctx.poll(true);
            }
            assertEquals(0, value(text(), "qmpd_nbd_connections", "export=e0"));
            metrics.unbindExport("e0");
            assertFalse(text().contains("export=\"e0\""));
        } finally {
            nbd.stop();
        }
    }

    @Test
    void nbdRequestsAreCountedExactlyByCommandWithTheirErrors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        BlockNode d0 = graph.add(new BlockdevOptions.NullCo("d0", 1 << 20, true, 0, false));
        java.nio.file.Path sock = dir.resolve("nbd.sock");
        NbdServer nbd = NbdServer.start(ctx, java.net.UnixDomainSocketAddress.of(sock), 0);
        try {
            NbdExport e0 = nbd.addExport("e0", "disk", null, d0, true);
            metrics.bindNode(d0);
            metrics.bindExport(e0);
            for (String cmd : List.of("read", "write", "flush", "trim", "block_status", "unknown")) {
                assertEquals(0, value(text(), "qmpd_nbd_requests_total", "export=e0", "command=" + cmd));
                assertEquals(0, value(text(), "qmpd_nbd_request_errors_total", "export=e0", "command=" + cmd));
            }
            var done = new java.util.concurrent.CompletableFuture<Void>();
            Thread.ofVirtual().start(() -> {
                try (var ch = NbdClient.connect(sock, "disk")) {
                    // 5 reads and 3 writes of 4 KiB, 2 flushes, 1 read past the end (EINVAL),
                    // 1 command number the protocol lacks (EINVAL), all in flight together.
                    long h = 1;
                    for (int i = 0; i < 5; i++) {
                        NbdClient.request(ch, 0, h++, i * 4096L, 4096, null);
                    }
                    for (int i = 0; i < 3; i++) {
                        NbdClient.request(ch, 1, h++, i * 4096L, 4096, new byte[4096]);
                    }
                    NbdClient.request(ch, 3, h++, 0, 0, null);
                    NbdClient.request(ch, 3, h++, 0, 0, null);
                    NbdClient.request(ch, 0, h++, (1 << 20) - 512, 4096, null);
                    NbdClient.request(ch, 42, h++, 0, 0, null);
                    int errors = 0;
                    for (int i = 0; i < 12; i++) {
                        int[] reply = NbdClient.simpleReply(ch);   // {error, handle}
                        boolean okRead = reply[1] <= 5 && reply[0] == 0;
                        if (okRead) {
                            NbdClient.readFully(ch, 4096);
                        }
                        errors += reply[0] != 0 ? 1 : 0;
                    }
                    assertEquals(2, errors);
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            while (!done.isDone()) {
                ctx.poll(false);
                Thread.onSpinWait();
            }
            done.get();
            while (e0.connectionCount() > 0) {   // the client has closed: let the server see it
                ctx.poll(true);
            }
            String t = text();
            assertEquals(6, value(t, "qmpd_nbd_requests_total", "export=e0", "node=d0", "command=read"));
            assertEquals(3, value(t, "qmpd_nbd_requests_total", "export=e0", "command=write"));
            assertEquals(2, value(t, "qmpd_nbd_requests_total", "export=e0", "command=flush"));
            assertEquals(1, value(t, "qmpd_nbd_requests_total", "export=e0", "command=unknown"));
            assertEquals(0, value(t, "qmpd_nbd_requests_total", "export=e0", "command=trim"));
            assertEquals(1, value(t, "qmpd_nbd_request_errors_total", "export=e0", "command=read"));
            assertEquals(0, value(t, "qmpd_nbd_request_errors_total", "export=e0", "command=write"));
            assertEquals(1, value(t, "qmpd_nbd_request_errors_total", "export=e0", "command=unknown"));
            // The client closed without NBD_CMD_DISC: nothing is counted for it.
            assertEquals(0, value(t, "qmpd_nbd_requests_total", "export=e0", "command=disc"));
            // The block layer saw exactly the 5 good reads and 3 writes of 4 KiB.
            assertEquals(5, value(t, "qmpd_block_operations_total", "node=d0", "op=read"));
            assertEquals(3 * 4096, value(t, "qmpd_block_bytes_total", "node=d0", "op=write"));
            metrics.unbindExport("e0");
            assertFalse(text().contains("export=\"e0\""));
        } finally {
            nbd.stop();
        }
    }

    @Test
    void qmpSeriesAppearWithTheirFirstCommand() {
        List<QmpCounters.CommandSeries> series = new CopyOnWriteArrayList<>();
        QmpCounters counters = new QmpCounters() {
            @Override
            public List<CommandSeries> commandSeries() {
                return List.copyOf(series);
            }

            @Override
            public int monitorsListening() {
                return 3;
            }

            @Override
            public int clientsConnected() {
                return 2;
            }

            @Override
            public long eventsEmitted() {
                return 7;
            }
        };
        metrics.bindQmp(counters);
        String t = text();
        assertEquals(2, value(t, "qmpd_qmp_clients"));
        assertEquals(3, value(t, "qmpd_qmp_monitors"));
        assertEquals(7, value(t, "qmpd_qmp_events_total"));
        assertTrue(values(t, "qmpd_qmp_commands_total").isEmpty());
        series.add(fixed("query-status", "ok", 3, 3_000_000));
        series.add(fixed("object-del", "GenericError", 1, 500_000));
        t = text();
        assertEquals(3, value(t, "qmpd_qmp_commands_total", "command=query-status", "outcome=ok"));
        assertEquals(1, value(t, "qmpd_qmp_commands_total", "command=object-del", "outcome=GenericError"));
        assertEquals(3, value(t, "qmpd_qmp_command_duration_seconds_count", "command=query-status"));
        assertEquals(0.003, value(t, "qmpd_qmp_command_duration_seconds_sum", "command=query-status"), 1e-9);
    }

    private static QmpCounters.CommandSeries fixed(String cmd, String outcome, long count, long nanos) {
        return new QmpCounters.CommandSeries() {
            public String command() { return cmd; }
            public String outcome() { return outcome; }
            public long count() { return count; }
            public long totalNanos() { return nanos; }
        };
    }

    @Test
    void openMetricsWhenAskedAndPrometheusTextOtherwise() {
        Scrape om = metrics.scrape("application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
        assertEquals(QmpdMetrics.OPENMETRICS_1_0, om.contentType());
        assertTrue(om.body().endsWith("# EOF\n"), om.body());
        Scrape text = metrics.scrape("text/plain");
        assertEquals(QmpdMetrics.TEXT_0_0_4, text.contentType());
        assertFalse(text.body().contains("# EOF"));
        assertTrue(text.body().contains("jvm_memory_used_bytes"));
        assertTrue(text.body().contains("process_cpu_usage"));
        assertTrue(text.body().contains("process_files_open_files"));
        assertTrue(text.body().contains("jvm_threads_live_threads"));
    }

    @Test
    void promtoolFindsNothingToSayAboutAFullScrape() throws Exception {
        metrics.bindIothread(QmpdMetrics.MAIN_LOOP, ctx);
        BlockNode d0 = graph.add(new BlockdevOptions.NullCo("d0", 1 << 20, true, 0, false));
        metrics.bindNode(d0);
        io(d0, BlockOp.WRITE, 0, 4096);
        assertEquals("exit=0", Samples.promtool(text()));
    }
}
