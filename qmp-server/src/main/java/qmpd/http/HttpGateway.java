package qmpd.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.metrics.QmpdMetrics;
import qmpd.metrics.Scrape;
import qmpd.qmp.server.QmpServer;

/**
 * The HTTP listener: Prometheus metrics, health checks, QMP over HTTP, the IOThread, node and export
 * resources, and QMP sessions over a WebSocket; HTTPS with a certificate and key (docs/http.md).
 *
 * <pre>{@code
 * HttpGateway http = new HttpGateway(qmpServer, metrics);
 * int port = http.start("127.0.0.1", 9000, Optional.of(Path.of("/etc/qmpd/token")));
 * http.setReady(true);            // once the command line's objects exist
 * http.stop();
 * }</pre>
 *
 * <p>Threading: start/stop block (up to a few seconds), so call them from the owner's thread, never
 * from an event loop; {@link #setReady} from any thread. Requests are handled on one Vert.x event
 * loop of the gateway's own; nothing there blocks: commands run on the main loop (with the
 * GlobalLock, as for QMP sockets) and scrapes on a Vert.x worker. A WebSocket session's
 * connection runs on the same loop.
 */
public final class HttpGateway {
    private static final Logger LOG = LoggerFactory.getLogger(HttpGateway.class);
    /** Requests with a larger body get 413. */
    public static final int DEFAULT_BODY_LIMIT = 1 << 20;
    private static final int WS_FRAME_LIMIT = 64 << 20;

    private final QmpServer qmp;
    private final QmpdMetrics metrics;
    private final int bodyLimit;
    private final QmpRoutes qmpRoutes;
    private final IothreadRoutes iothreadRoutes;
    private final NodeRoutes nodeRoutes;
    private final ExportRoutes exportRoutes;
    private final Set<EventStream> streams = ConcurrentHashMap.newKeySet();   // added/removed on the loop
    private volatile boolean ready;
    // Written by start/stop on the owner's thread, read by handlers after the server is published.
    private volatile Vertx vertx;
    private volatile HttpServer server;
    private volatile BearerToken token;
    private volatile Context loop;

    public HttpGateway(QmpServer qmp, QmpdMetrics metrics) {
        this(qmp, metrics, DEFAULT_BODY_LIMIT);
    }

    /** @param bodyLimit the largest request body accepted, in bytes */
    public HttpGateway(QmpServer qmp, QmpdMetrics metrics, int bodyLimit) {
        this.qmp = Objects.requireNonNull(qmp, "qmp");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.bodyLimit = bodyLimit;
        this.qmpRoutes = new QmpRoutes(qmp);
        this.iothreadRoutes = new IothreadRoutes(qmpRoutes);
        this.nodeRoutes = new NodeRoutes(qmpRoutes);
        this.exportRoutes = new ExportRoutes(qmpRoutes);
    }

    /** What {@code GET /readyz} answers: 200 when true, 503 until then. */
    public void setReady(boolean ready) {
        this.ready = ready;
    }

    /** Plain HTTP: {@link #start(String, int, Optional, Optional)} without TLS. */
    public int start(String host, int port, Optional<Path> tokenFile) throws IOException {
        return start(host, port, tokenFile, Optional.empty(), Optional.empty());
    }

    /**
     * Listens on {@code host:port} (port 0 picks a free one) and returns the bound port. With a
     * token file, every route but {@code /healthz} and {@code /readyz} requires
     * {@code Authorization: Bearer <token>}; without one, only a loopback host is accepted. With
     * a certificate and key (PEM files, both or neither), the listener speaks HTTPS only.
     *
     * @throws IllegalArgumentException a non-loopback host without a token file; only one of
     *                                  certificate and key
     * @throws IOException the token file cannot be read or is empty; a TLS file is missing,
     *                     unreadable or not PEM, or the key does not match the certificate; the
     *                     port cannot be bound
     */
    public int start(String host, int port, Optional<Path> tokenFile, Optional<Path> tlsCert, Optional<Path> tlsKey)
            throws IOException {
        if (tlsCert.isPresent() != tlsKey.isPresent()) {
            throw new IllegalArgumentException("tls-cert and tls-key must be given together");
        }
        return start(host, port, tokenFile, tlsCert.map(c -> new TlsFiles(c, tlsKey.get())));
    }

    private int start(String host, int port, Optional<Path> tokenFile, Optional<TlsFiles> tls) throws IOException {
        if (server != null) {
            throw new IllegalStateException("HTTP gateway already started");
        }
        qmpd.qmp.ListenHost.requireNamed(host);   // "" would be every interface, and resolves as loopback
        BearerToken t = tokenFile.isPresent() ? BearerToken.read(tokenFile.get()) : null;
        if (t == null && !qmpd.qmp.ListenHost.isLoopback(host)) {
            throw new IllegalArgumentException("refusing to serve HTTP on non-loopback address '" + host
                    + "' without a token file");
        }
        this.token = t;
        Vertx v = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
        Context ctx = v.getOrCreateContext();
        HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port)
                // WebSocket messages are limited to bodyLimit by the QMP session, which closes with
                // 1009 and a reason. Vert.x's own frame limit drops the connection without a close
                // frame, so it is set to what a socket client may make the server hold anyway
                // (QMP's 64 MiB token limit) and only ever trips for frames beyond that.
                .setMaxWebSocketFrameSize(Math.max(bodyLimit, WS_FRAME_LIMIT))
                .setMaxWebSocketMessageSize(Math.max(bodyLimit, WS_FRAME_LIMIT));
        if (tls.isPresent()) {
            try {
                tls.get().check(v);
            } catch (IOException e) {
                v.close();
                throw e;
            }
            options.setSsl(true).setKeyCertOptions(tls.get().options());
        }
        try {
            HttpServer s = v.createHttpServer(options).requestHandler(this::handle);
            this.vertx = v;
            this.loop = ctx;
            this.server = s;
            s.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            this.server = null;
            v.close();
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        LOG.info("event=http-listening host={} port={} auth={} tls={}", host, server.actualPort(), t != null,
                tls.isPresent());
        return server.actualPort();
    }

    /** The bound port, or -1 when not listening. */
    public int port() {
        HttpServer s = server;
        return s == null ? -1 : s.actualPort();
    }

    /** Ends event streams, closes the listener and the gateway's Vert.x; idempotent. */
    public void stop() {
        HttpServer s = server;
        Vertx v = vertx;
        if (s == null) {
            return;
        }
        server = null;
        try {
            loop.runOnContext(x -> streams.forEach(EventStream::close));
            s.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            v.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("event=http-stop-incomplete error={}", e.toString());
        }
    }

    // ------------------------------------------------------------------ routing (event loop)

    private void handle(HttpServerRequest req) {
        Exchange ex = new Exchange(req, Vertx.currentContext(), bodyLimit);
        String path = req.path();
        HttpMethod m = req.method();
        if (path.equals("/healthz")) {
            only(ex, m, HttpMethod.GET, () -> ex.sendJson(200, status("ok")));
            return;
        }
        if (path.equals("/readyz")) {
            only(ex, m, HttpMethod.GET, () -> ex.sendJson(ready ? 200 : 503, status(ready ? "ready" : "starting")));
            return;
        }
        BearerToken t = token;
        if (t != null && !t.accepts(req.getHeader("Authorization"))) {
            ex.response().putHeader("WWW-Authenticate", "Bearer");
            ex.sendError(401, "GenericError", "Authentication required");
            return;
        }
        route(ex, m, path);
    }

    private void route(Exchange ex, HttpMethod m, String path) {
        if (path.equals("/metrics")) {
            only(ex, m, HttpMethod.GET, () -> scrape(ex));
        } else if (path.equals("/api/v1/qmp")) {
            only(ex, m, HttpMethod.POST, () -> qmpRoutes.request(ex));
        } else if (path.startsWith("/api/v1/commands/") && path.length() > "/api/v1/commands/".length()) {
            String name = path.substring("/api/v1/commands/".length());
            only(ex, m, HttpMethod.POST, () -> qmpRoutes.command(ex, name));
        } else if (path.equals("/api/v1/events")) {
            only(ex, m, HttpMethod.GET, () -> events(ex));
        } else if (path.equals("/api/v1/openapi.json")) {
            only(ex, m, HttpMethod.GET, () -> ex.sendJson(200, OpenApi.document(qmp.registry())));
        } else if (path.equals("/api/v1/qmp-ws")) {
            only(ex, m, HttpMethod.GET, () -> webSocket(ex));
        } else if (isUnder(path, "/api/v1/iothreads")) {
            iothreadRoutes.handle(ex, m, path.substring("/api/v1/iothreads".length()));
        } else if (isUnder(path, "/api/v1/nodes")) {
            nodeRoutes.handle(ex, m, path.substring("/api/v1/nodes".length()));
        } else if (isUnder(path, "/api/v1/exports")) {
            exportRoutes.handle(ex, m, path.substring("/api/v1/exports".length()));
        } else {
            ex.sendError(404, "GenericError", "No such resource: " + path);
        }
    }

    private static boolean isUnder(String path, String collection) {
        return path.equals(collection) || path.startsWith(collection + "/");
    }

    /**
     * {@code GET /api/v1/qmp-ws} with a WebSocket upgrade: a QMP session, one message per text
     * frame, served by the QMP server's own connection code (greeting, negotiation, events).
     */
    private void webSocket(Exchange ex) {
        if (!ex.req.canUpgradeToWebSocket()) {
            ex.sendError(400, "GenericError", "This path takes a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)");
            return;
        }
        ex.req.toWebSocket().onComplete(ar -> {
            if (ar.succeeded()) {
                qmp.serveWebSocket(ar.result(), bodyLimit);   // on this loop, before any frame is read
            } else {
                LOG.debug("event=websocket-upgrade-failed error={}", ar.cause().toString());
            }
        });
    }

    /** Runs {@code action} for {@code allowed}, else 405 with an Allow header. */
    static void only(Exchange ex, HttpMethod m, HttpMethod allowed, Runnable action) {
        if (m.equals(allowed)) {
            action.run();
        } else {
            notAllowed(ex, m, allowed.name());
        }
    }

    /** 405 with {@code allow} (e.g. "GET, POST") in the Allow header. */
    static void notAllowed(Exchange ex, HttpMethod m, String allow) {
        ex.response().putHeader("Allow", allow);
        ex.sendError(405, "GenericError", "Method " + m.name() + " not allowed here");
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode status(String s) {
        return JsonNodeFactory.instance.objectNode().put("status", s);
    }

    private void scrape(Exchange ex) {
        String accept = ex.req.getHeader("Accept");
        // Rendering walks every meter (some take short locks): off the event loop.
        vertx.<Scrape>executeBlocking(() -> metrics.scrape(accept)).onComplete(ar -> {
            if (ar.failed()) {
                ex.sendError(500, "GenericError", "Scrape failed: " + ar.cause());
                return;
            }
            ex.response().setStatusCode(200).putHeader("Content-Type", ar.result().contentType())
                    .end(ar.result().body());
        });
    }

    private void events(Exchange ex) {
        EventStream[] self = new EventStream[1];
        self[0] = new EventStream(ex.response(), Vertx.currentContext(), vertx, () -> streams.remove(self[0]));
        streams.add(self[0]);
        self[0].start(qmp.events());
    }
}
