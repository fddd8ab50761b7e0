package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.qmp.MonitorOptions;

/**
 * One QMP monitor: a listening socket serving one client at a time, as a QEMU socket chardev
 * does. A client that connects while another is served gets no greeting and is not read from; it
 * waits until the first leaves, then gets a fresh greeting in negotiation mode
 * (qmp-protocol.md section 10).
 *
 * <p>Threading: all state is touched on the monitor's Vert.x context (its I/O thread).
 */
public final class Monitor {
    private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);

    private final QmpServer server;
    private final String id;
    private final MonitorOptions options;
    private final Context context;
    private final Path unixPath;
    private final ArrayDeque<NetSocket> waiting = new ArrayDeque<>();
    private NetServer netServer;
    private QmpConnection active;
    private boolean closing;

    Monitor(QmpServer server, String id, MonitorOptions options, Context context, Path unixPath) {
        this.server = server;
        this.id = id;
        this.options = options;
        this.context = context;
        this.unixPath = unixPath;
    }

    /** A name for logs: the socket path or host:port. */
    public String id() {
        return id;
    }

    /** The port actually bound (TCP), or -1. */
    public int actualPort() {
        return netServer == null || unixPath != null ? -1 : netServer.actualPort();
    }

    /** The UNIX socket path, or null for TCP. */
    public Path unixPath() {
        return unixPath;
    }

    MonitorOptions options() {
        return options;
    }

    QmpServer server() {
        return server;
    }

    void bound(NetServer netServer) {
        this.netServer = netServer;
    }

    /** A new client: served now, or parked until the current one leaves. */
    void onConnect(NetSocket socket) {
        socket.pause();
        if (closing) {
            socket.close();
            return;
        }
        if (active != null) {
            LOG.debug("event=client-waiting monitor={}", id);
            waiting.add(socket);
            socket.closeHandler(v -> waiting.remove(socket));
            return;
        }
        serve(socket);
    }

    private void serve(NetSocket socket) {
        LOG.debug("event=client-connected monitor={}", id);
        active = new QmpConnection(server, new SocketTransport(socket, options.pretty(), id), context,
                this::connectionClosed);
        server.stats().clientConnected();
        ObjectNode greeting = server.greeting();
        active.start(greeting);
    }

    void connectionClosed(QmpConnection connection) {
        if (active != connection) {
            return;
        }
        LOG.debug("event=client-disconnected monitor={}", id);
        server.stats().clientDisconnected();
        active = null;
        NetSocket next = waiting.poll();
        if (next != null && !closing) {
            serve(next);
        }
    }

    /** Stops listening, closes every client and removes the socket file. */
    Future<Void> close() {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        context.runOnContext(v -> {
            closing = true;
            waiting.forEach(NetSocket::close);
            waiting.clear();
            if (active != null) {
                active.close();
            }
            Future<Void> stop = netServer == null ? Future.succeededFuture() : netServer.close();
            stop.onComplete(ar -> {
                if (unixPath != null) {
                    try {
                        Files.deleteIfExists(unixPath);
                    } catch (java.io.IOException e) {
                        LOG.warn("event=socket-unlink-failed path={} error={}", unixPath, e.toString());
                    }
                }
                done.complete();
            });
        });
        return done.future();
    }
}
