package qmpd.block.export.nbd;

import qmpd.block.BlockNode;
import qmpd.block.MainLoopHarness;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.IOThread;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real main loop, one IOThread ({@code io0}), nodes on real files, and an NBD server on a UNIX
 * socket (or TCP loopback) in a temp directory: what a test needs to point real clients at.
 * Exports are served in the IOThread. {@link #close()} shuts everything down and fails the test
 * if a callback threw anywhere.
 */
final class NbdTestBed implements AutoCloseable {

    final MainLoopHarness h = new MainLoopHarness();
    final IOThread io = h.iothread("io0");
    final Path dir;
    final Path socket;
    NbdServer server;
    private final List<NbdExport> exports = new ArrayList<>();

    NbdTestBed(Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("nbd.sock");
    }

    /** A bed with a UNIX-socket server already listening. */
    static NbdTestBed unix(Path dir) {
        NbdTestBed b = new NbdTestBed(dir);
        b.listen(UnixDomainSocketAddress.of(b.socket), 0);
        return b;
    }

    NbdServer listen(SocketAddress address, int maxConnections) {
        server = h.onMain(() -> NbdServer.start(h.mainLoop.context(), address, maxConnections));
        return server;
    }

    NbdServer listenTcp() {
        return listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }

    SocketAddress address() {
        return server.localAddress();
    }

    /** null-co that reads zeroes. */
    BlockNode nullCo(String name, long size) {
        return h.onMain(() -> h.graph.add(new BlockdevOptions.NullCo(name, size, true, 0, false)));
    }

    /** raw over file over {@code image}. */
    BlockNode raw(String name, Path image) {
        return h.onMain(() -> {
            h.graph.add(BlockdevOptions.File.of(name + "-file", image.toString()));
            return h.graph.add(new BlockdevOptions.Raw(name, name + "-file", null, 0, null, false));
        });
    }

    /** A sparse file of {@code size} bytes: no block allocated. */
    Path sparseFile(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    /** Moves {@code node} into io0 and exports it under {@code name}. */
    NbdExport export(String name, BlockNode node, boolean writable) {
        NbdExport e = h.onMain(() -> {
            h.graph.setContext(node, io.context());
            return server.addExport("e-" + name, name, "export " + name, node, writable);
        });
        exports.add(e);
        return e;
    }

    String uri(String name) {
        if (address() instanceof InetSocketAddress a) {
            return "nbd://" + a.getHostString() + ":" + a.getPort() + "/" + name;
        }
        return "nbd+unix:///" + name + "?socket=" + socket;
    }

    /** Shuts {@code e} down and waits (bounded) until its last client is gone. */
    void shutdown(NbdExport e, boolean hard) {
        CountDownLatch gone = new CountDownLatch(1);
        h.onMain(() -> e.shutdown(hard, gone::countDown));
        await(gone, "export " + e.name() + " to lose its clients");
        exports.remove(e);
    }

    static void await(CountDownLatch latch, String what) {
        try {
            if (!latch.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out waiting for " + what);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    /** Polls (bounded) until the server has no connection left. */
    void awaitNoConnections() {
        awaitConnections(0);
    }

    /** Polls (bounded) until the server has {@code n} connections left. */
    void awaitConnections(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (h.onMain(() -> server.connectionCount()) > n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("connections still open: " + h.onMain(() -> server.connectionCount()));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);   // a poll interval, not a wait for luck
        }
    }

    @Override
    public void close() {
        try {
            for (NbdExport e : List.copyOf(exports)) {
                shutdown(e, true);
            }
            if (server != null) {
                h.onMain(() -> server.stop());
                awaitNoConnections();
            }
        } finally {
            h.close();
        }
    }
}
