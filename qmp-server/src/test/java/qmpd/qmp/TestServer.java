package qmpd.qmp;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.StandardCommands;
import qmpd.qmp.qom.IOThreadUsers;
import qmpd.loop.IOThreadRegistry;
import qmpd.loop.MainLoop;
import qmpd.qmp.qom.AioIOThreads;
import qmpd.qmp.qom.QomObjects;
import qmpd.qmp.server.Monitor;
import qmpd.qmp.server.QmpServer;

/**
 * An in-process qmpd QMP server on UNIX sockets in a temporary directory, with a single-threaded
 * main loop. {@code quit} closes the server (so clients see EOF) instead of exiting the JVM.
 */
public final class TestServer implements AutoCloseable {
    public final MainLoop mainLoop = new MainLoop().start();
    public final IOThreadRegistry iothreads = new IOThreadRegistry();
    public final QomObjects objects;
    public final QmpServer server;
    public final AtomicInteger shutdowns = new AtomicInteger();
    /** Completed by the shutdown hook, after the server closed. */
    public final java.util.concurrent.CompletableFuture<Void> shutdown = new java.util.concurrent.CompletableFuture<>();
    private final Path dir;

    public TestServer(Path dir, IOThreadUsers users, List<QmpCommand<?, ?>> extra) {
        this.dir = dir;
        this.objects = new QomObjects(new AioIOThreads(iothreads), users);
        CommandRegistry registry = StandardCommands.register(new CommandRegistry(), objects);
        extra.forEach(registry::register);
        QmpServer[] self = new QmpServer[1];
        this.server = new QmpServer(registry, mainLoop.context()::runOnce, new QmpEvents(), () -> {
            shutdowns.incrementAndGet();
            self[0].close();
            shutdown.complete(null);
        });
        self[0] = server;
    }

    public TestServer(Path dir) {
        this(dir, IOThreadUsers.NONE, List.of());
    }

    /** Starts a monitor on {@code <dir>/<name>.sock} and returns its path. */
    public Path monitor(String name, MonitorOptions options) throws Exception {
        Path p = dir.resolve(name + ".sock");
        Monitor m = server.listenUnix(p, options).toCompletableFuture().get(10, TimeUnit.SECONDS);
        return m.unixPath();
    }

    public Path monitor(String name) throws Exception {
        return monitor(name, MonitorOptions.defaults());
    }

    @Override
    public void close() {
        server.close();
        java.util.concurrent.CompletableFuture<Void> stopped = new java.util.concurrent.CompletableFuture<>();
        mainLoop.context().runOnce("test:stop-iothreads", () -> {
            objects.stopAll();
            stopped.complete(null);
        });
        stopped.join();
        mainLoop.stop();
    }
}
