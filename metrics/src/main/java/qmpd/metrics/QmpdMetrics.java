package qmpd.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Objects;
import qmpd.aio.AioContext;
import qmpd.aio.pool.ThreadPool;
import qmpd.block.BlockNode;
import qmpd.block.export.nbd.NbdExport;

/**
 * The daemon's meters in one Prometheus registry. The owner binds each IOThread, node and export
 * when it is created and unbinds it when it is deleted, so a deleted object's series disappear
 * from the next scrape. Every meter reads counters the core keeps; nothing here is on an I/O path.
 *
 * <pre>{@code
 * QmpdMetrics metrics = new QmpdMetrics();          // JVM and process meters included
 * metrics.bindIothread("main-loop", mainLoop.context());
 * metrics.bindIothread("io0", iothread.context());  // object-add; unbindIothread("io0") on object-del
 * metrics.bindNode(node);                           // blockdev-add; unbindNode("disk0") on blockdev-del
 * metrics.bindExport(export);                       // block-export-add; unbindExport("e0") when gone
 * metrics.bindQmp(qmpServer.stats());
 * Scrape s = metrics.scrape(request.getHeader("Accept"));
 * }</pre>
 *
 * <p>Threading: every method may be called from any thread; binding and scraping are serialised
 * by one lock, held only while meters are added, removed or rendered.
 */
public final class QmpdMetrics implements AutoCloseable {
    /** The iothread tag of the main loop's meters (QEMU's QOM id for it is main-loop too). */
    public static final String MAIN_LOOP = "main-loop";
    /** The Prometheus text format, what scrapers get unless they ask for OpenMetrics. */
    public static final String TEXT_0_0_4 = "text/plain; version=0.0.4; charset=utf-8";
    public static final String OPENMETRICS_1_0 = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The per-node latency histograms, read from the core's buckets at scrape time. */
    private final BlockLatencyCollector latency = new BlockLatencyCollector();
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** Completed by the metrics-jvm-binders thread once the JVM and process meters are bound. */
    private final CompletableFuture<Void> jvmMeters = new CompletableFuture<>();
    private final Object lock = new Object();
    private final Map<String, MeterGroup> iothreads = new HashMap<>();   // @protectedby lock; context + pool
    private final Map<String, NodeBinding> nodes = new HashMap<>();      // @protectedby lock
    private final Map<String, MeterGroup> exports = new HashMap<>();     // @protectedby lock
    private QmpMetrics qmp;                                              // @protectedby lock

    /**
     * A registry with Micrometer's JVM and process meters. Those are bound on a thread of their
     * own (thread {@code metrics-jvm-binders}, started here): they load the JVM's management
     * classes, a tenth of the daemon's start-up, and nothing needs them before the first scrape,
     * which waits for them (as {@link #close} does).
     */
    public QmpdMetrics() {
        PromtoolClean.install(registry);
        registry.getPrometheusRegistry().register(latency);
        Thread.ofPlatform().name("metrics-jvm-binders").daemon(true).start(() -> {
            try {
                bindJvmMeters();
                jvmMeters.complete(null);
            } catch (Throwable t) {
                jvmMeters.completeExceptionally(t);
            }
        });
    }

    /** Runs on the metrics-jvm-binders thread; the registry takes meters from any thread. */
    private void bindJvmMeters() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Waits until the JVM and process meters are bound (normally long done by the first scrape). */
    private void awaitJvmMeters() {
        try {
            jvmMeters.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new IllegalStateException("binding the JVM meters failed", e.getCause());
        }
    }

    /** The registry, for binders of other parts (e.g. Vert.x's own metrics). */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Meters of an event loop and of its worker pool ({@code ThreadPool.of(ctx)}, created here if
     * it did not exist yet), tagged {@code iothread=<id>}. Use {@link #MAIN_LOOP} for the main loop.
     * Binding an id again replaces its meters.
     */
    public void bindIothread(String id, AioContext ctx) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(ctx, "ctx");
        ThreadPool pool = ThreadPool.of(ctx);
        MeterGroup both = new MeterGroup() {
            private final AioContextMetrics loop = new AioContextMetrics(id, ctx);
            private final ThreadPoolMetrics workers = new ThreadPoolMetrics(id, pool);

            @Override
            protected void register(MeterRegistry r) {
                loop.bindTo(r);
                workers.bindTo(r);
                loop.meters().forEach(this::add);
                workers.meters().forEach(this::add);
            }
        };
        synchronized (lock) {
            replace(iothreads.put(id, both));
            both.bindTo(registry);
        }
    }

    /** Removes the meters of {@code id}'s loop and pool; unknown ids are ignored. */
    public void unbindIothread(String id) {
        synchronized (lock) {
            replace(iothreads.remove(id));
        }
    }

    /**
     * Meters of a block node, tagged {@code node=} and {@code iothread=} its context's name. They
     * follow the node when it moves to another IOThread (re-tagged inside the move's drained
     * section). Binding a node name again replaces its meters.
     */
    public void bindNode(BlockNode node) {
        Objects.requireNonNull(node, "node");
        synchronized (lock) {
            NodeBinding old = nodes.remove(node.nodeName());
            if (old != null) {
                old.close();
            }
            NodeBinding b = new NodeBinding(node);
            nodes.put(node.nodeName(), b);
            b.attach(node.context());
            latency.add(node);
        }
    }

    /** Removes a node's meters; unknown names are ignored. */
    public void unbindNode(String nodeName) {
        synchronized (lock) {
            NodeBinding b = nodes.remove(nodeName);
            if (b != null) {
                b.close();
            }
            latency.remove(nodeName);
        }
    }

    /** Meters of an NBD export, tagged {@code export=} and {@code node=}. */
    public void bindExport(NbdExport export) {
        Objects.requireNonNull(export, "export");
        NbdExportMetrics m = new NbdExportMetrics(export);
        synchronized (lock) {
            replace(exports.put(export.id(), m));
            m.bindTo(registry);
        }
    }

    /** Removes an export's meters; unknown ids are ignored. */
    public void unbindExport(String id) {
        synchronized (lock) {
            replace(exports.remove(id));
        }
    }

    /** Meters of the QMP server's counters. */
    public void bindQmp(QmpCounters counters) {
        QmpMetrics m = new QmpMetrics(counters);
        synchronized (lock) {
            replace(qmp);
            qmp = m;
            m.bindTo(registry);
        }
    }

    /**
     * Renders every meter: OpenMetrics 1.0 when {@code accept} asks for
     * {@code application/openmetrics-text}, else the Prometheus text format 0.0.4 (also for a null
     * or empty header).
     */
    public Scrape scrape(String accept) {
        String type = accept != null && accept.contains("application/openmetrics-text")
                ? OPENMETRICS_1_0 : TEXT_0_0_4;
        awaitJvmMeters();
        synchronized (lock) {
            if (qmp != null) {
                qmp.refresh();
            }
            return new Scrape(type, registry.scrape(type));
        }
    }

    private static void replace(MeterGroup old) {
        if (old != null) {
            old.unbind();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            iothreads.values().forEach(MeterGroup::unbind);
            nodes.values().forEach(NodeBinding::close);
            exports.values().forEach(MeterGroup::unbind);
            replace(qmp);
            iothreads.clear();
            nodes.clear();
            exports.clear();
            qmp = null;
        }
        jvmMeters.exceptionally(t -> null).join();   // the binder thread must not bind into a closed registry
        gc.close();
        registry.close();
    }

    /** A node's meters and the listener that re-tags them when the node changes context. */
    private final class NodeBinding implements BlockNode.ContextListener {
        private final BlockNode node;
        private BlockNodeMetrics meters;   // @protectedby lock

        NodeBinding(BlockNode node) {
            this.node = node;
            node.addContextListener(this);
        }

        @Override
        public void detach(AioContext old) {
            // The meters stay until attach: a scrape in between still sees the node.
        }

        @Override
        public void attach(AioContext ctx) {
            synchronized (lock) {
                if (nodes.get(node.nodeName()) != this) {
                    return;
                }
                replace(meters);
                meters = new BlockNodeMetrics(node, ctx.name());
                meters.bindTo(registry);
            }
        }

        void close() {
            node.removeContextListener(this);
            replace(meters);
            meters = null;
        }
    }
}
