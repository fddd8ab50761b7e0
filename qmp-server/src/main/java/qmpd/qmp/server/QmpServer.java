package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.config.json.Json;
import qmpd.qmp.InBandExecutor;
import qmpd.qmp.MonitorOptions;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QueryVersion;

/**
 * The QMP server: any number of monitors on UNIX or TCP sockets, sharing one command table, one
 * event stream and one main loop.
 *
 * <pre>{@code
 * QmpServer qmp = new QmpServer(registry, mainLoop.context()::runOnce, () -> daemon.stop());
 * qmp.listenUnix(Path.of("/run/qmpd.sock"), MonitorOptions.defaults()).toCompletableFuture().join();
 * qmp.events().emit("SHUTDOWN", data);
 * qmp.close();
 * }</pre>
 *
 * <p>Threading: every public method may be called from any thread.
 */
public final class QmpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QmpServer.class);

    /**
     * Event loops for the monitors (Vert.x's default is two per CPU). They only frame and
     * encode JSON; every in-band command runs on the one main loop, so more loops than two add
     * threads and memory, not throughput (docs/startup-and-footprint.md).
     */
    static final int EVENT_LOOPS = Math.min(2, Runtime.getRuntime().availableProcessors());

    private final Vertx vertx;
    private final CommandRegistry registry;
    private final QmpDispatcher dispatcher;
    private final QmpEvents events;
    private final QmpStats stats;
    private final Runnable shutdownHook;
    private final List<Monitor> monitors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicBoolean shutdownFired = new AtomicBoolean();

    /**
     * @param registry the commands; complete before the first listener starts
     * @param mainLoop where in-band commands run (with the GlobalLock held)
     * @param events the event stream commands and the block layer emit into
     * @param shutdownHook run once after {@code quit} has replied; the owner stops the daemon
     */
    public QmpServer(CommandRegistry registry, InBandExecutor mainLoop, QmpEvents events, Runnable shutdownHook) {
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS));
        this.registry = registry;
        this.events = events;
        this.stats = new QmpStats(events, monitors::size);
        this.dispatcher = new QmpDispatcher(registry, mainLoop, stats);
        this.shutdownHook = shutdownHook;
    }

    public QmpEvents events() {
        return events;
    }

    public CommandRegistry registry() {
        return registry;
    }

    QmpDispatcher dispatcher() {
        return dispatcher;
    }

    /** Tells {@code observer} of every successful in-band command; set before clients are served. */
    @qmpd.aio.annotation.AnyThread
    public void setCommandObserver(qmpd.qmp.command.CommandObserver observer) {
        dispatcher.setObserver(observer);
    }

    /** The counters metrics read ({@code QmpdMetrics.bindQmp(server.stats())}). */
    public QmpStats stats() {
        return stats;
    }

    /**
     * Runs one QMP request object through the same dispatcher as the monitors, in a session that is
     * already negotiated without {@code oob} (the HTTP gateway's path). In-band commands run on the
     * main loop with the GlobalLock held. The stage completes with the reply, never exceptionally;
     * if {@link QmpReply#shutdownRequested()}, the caller sends the response, then calls
     * {@link #fireShutdown()}.
     */
    public CompletionStage<QmpReply> execute(com.fasterxml.jackson.databind.JsonNode request) {
        NegotiatedContext ctx = new NegotiatedContext(this);
        return dispatcher.execute(request, ctx, false).thenApply(r -> r.withShutdown(ctx.shutdownRequested()));
    }

    /**
     * Serves one QMP session over {@code ws} (an accepted WebSocket, e.g. the HTTP gateway's
     * {@code /api/v1/qmp-ws}): greeting, capabilities negotiation, commands and events exactly as
     * on a monitor socket, through the same dispatcher. Unlike a socket monitor, any number of
     * WebSocket sessions run at once, each with its own negotiation state. Call it on the
     * WebSocket's context, before returning to it (so no frame arrives before the session reads).
     *
     * @param maxMessage the longest text message accepted; a longer one closes the WebSocket (1009)
     */
    public void serveWebSocket(io.vertx.core.http.ServerWebSocket ws, long maxMessage) {
        Context ctx = Vertx.currentContext();
        if (ctx == null) {
            throw new IllegalStateException("serveWebSocket must run on the WebSocket's Vert.x context");
        }
        ws.pause();
        stats.clientConnected();
        QmpConnection c = new QmpConnection(this, new WebSocketTransport(ws, maxMessage), ctx, closed -> stats.clientDisconnected());
        LOG.debug("event=websocket-client-connected client={}", ws.remoteAddress());
        c.start(greeting());
    }

    /** The greeting: the same version object {@code query-version} returns, and {@code oob}. */
    ObjectNode greeting() {
        ObjectNode g = Json.mapper().createObjectNode();
        ObjectNode qmp = g.putObject("QMP");
        qmp.set("version", Json.mapper().valueToTree(QueryVersion.VERSION));
        qmp.putArray("capabilities").add("oob");
        return g;
    }

    /**
     * Listens on a UNIX socket. A stale socket file is removed only if nobody answers on it; a live
     * one, or a file that is not a socket, fails the stage. The file gets
     * {@link MonitorOptions#socketPermissions()} (owner-only by default).
     */
    public CompletionStage<Monitor> listenUnix(Path path, MonitorOptions options) {
        try {
            removeStaleSocket(path);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        Context ctx = vertx.getOrCreateContext();
        Monitor monitor = new Monitor(this, path.toString(), options, ctx, path);
        return listen(monitor, ctx, SocketAddress.domainSocketAddress(path.toString())).thenApply(m -> {
            try {
                Files.setPosixFilePermissions(path, options.socketPermissions());
            } catch (IOException e) {
                LOG.warn("event=socket-chmod-failed path={} error={}", path, e.toString());
            }
            return m;
        });
    }

    /** Listens on TCP; port 0 picks a free one ({@link Monitor#actualPort()}). */
    public CompletionStage<Monitor> listenTcp(String host, int port, MonitorOptions options) {
        Context ctx = vertx.getOrCreateContext();
        Monitor monitor = new Monitor(this, host + ":" + port, options, ctx, null);
        return listen(monitor, ctx, SocketAddress.inetSocketAddress(port, host));
    }

    private CompletionStage<Monitor> listen(Monitor monitor, Context ctx, SocketAddress address) {
        CompletableFuture<Monitor> result = new CompletableFuture<>();
        ctx.runOnContext(v -> {
            NetServer server = vertx.createNetServer(new NetServerOptions().setTcpNoDelay(true));
            server.connectHandler(monitor::onConnect);
            server.listen(address).onComplete(ar -> {
                if (ar.succeeded()) {
                    monitor.bound(server);
                    monitors.add(monitor);
                    LOG.info("event=monitor-listening address={}", monitor.id());
                    result.complete(monitor);
                } else {
                    result.completeExceptionally(ar.cause());
                }
            });
        });
        return result;
    }

    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!"socket".equals(fileType(path))) {
            throw new IOException("cannot listen on " + path + ": it exists and is not a socket");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("cannot listen on " + path + ": another server is answering on it");
        } catch (java.net.SocketException e) {
            LOG.info("event=stale-socket-removed path={}", path);
            Files.deleteIfExists(path);
        }
    }

    private static String fileType(Path path) throws IOException {
        var attrs = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        return attrs.isOther() ? "socket" : attrs.isRegularFile() ? "file" : "other";
    }

    /** The monitors listening now. */
    public List<Monitor> monitors() {
        return List.copyOf(monitors);
    }

    /** Runs the shutdown hook once, on its own thread, as {@code quit} does after its reply. */
    public void fireShutdown() {
        if (shutdownFired.compareAndSet(false, true)) {
            Thread.ofPlatform().name("qmp-shutdown").start(shutdownHook);
        }
    }

    /**
     * Stops every monitor (clients are disconnected, socket files removed) and Vert.x; waits up to
     * a few seconds, so call it from the owner's thread, never from a Vert.x event loop.
     */
    @Override
    public void close() {
        List<Future<Void>> closing = new ArrayList<>();
        for (Monitor m : monitors) {
            closing.add(m.close());
        }
        monitors.clear();
        try {
            Future.join(closing).toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("event=close-incomplete error={}", e.toString());
        }
    }
}
