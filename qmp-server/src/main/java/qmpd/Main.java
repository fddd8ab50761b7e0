package qmpd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.Optional;
import qmpd.block.BlockNode;
import qmpd.block.export.BlockExport;
import qmpd.block.export.nbd.NbdExport;
import qmpd.config.cli.CliException;
import qmpd.config.schema.IothreadProperties;
import qmpd.http.HttpGateway;
import qmpd.metrics.QmpdMetrics;
import qmpd.qmp.qom.IOThreadBackend;
import qmpd.config.cli.CliOption;
import qmpd.config.cli.CommandLine;
import qmpd.config.error.QmpException;
import qmpd.loop.IOThreadRegistry;
import qmpd.loop.MainLoop;
import qmpd.qmp.MonitorOptions;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.block.BlockCommands;
import qmpd.qmp.block.BlockService;
import qmpd.qmp.ListenHost;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.command.StandardCommands;
import qmpd.qmp.qom.AioIOThreads;
import qmpd.qmp.qom.QomObjects;
import qmpd.qmp.schema.ArgumentValidator;
import qmpd.qmp.server.Monitor;
import qmpd.qmp.server.QmpServer;
import qmpd.state.StateFile;

/**
 * The daemon's entry point. It takes qemu-storage-daemon's command line ({@code --chardev},
 * {@code --monitor}, {@code --object}, {@code --blockdev}, {@code --nbd-server}, {@code --export},
 * {@code --pidfile}, plus qmpd's {@code --config}); each option becomes the arguments of the QMP
 * command that does the same thing, and is applied in order through that command, on the main
 * loop, before any client is served. Without arguments it starts the {@link EmbeddedDefault}.
 * It stops cleanly (exports, nodes, IOThreads, listeners, socket files, pidfile; exit status 0)
 * on {@code quit}, SIGINT, SIGTERM or SIGHUP.
 */
public final class Main {
    private final MainLoop mainLoop;
    private final IOThreadRegistry iothreads;
    private final QmpEvents events;
    private final BlockService block;
    private final QmpdMetrics metrics;
    private final QomObjects objects;
    private final CommandRegistry registry;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<Path> filesToRemove = new ArrayList<>();
    private QmpServer server;
    private HttpGateway http;
    private StateFile stateFile;

    Main() {
        mainLoop = new MainLoop();
        StartupTrace.phase("main loop created");
        iothreads = new IOThreadRegistry();
        events = new QmpEvents();
        block = new BlockService(mainLoop.context(), iothreads, events);
        StartupTrace.phase("block service created");
        metrics = new QmpdMetrics();
        StartupTrace.phase("metrics created");
        objects = new QomObjects(metered(new AioIOThreads(iothreads)), block);
        registry = BlockCommands.register(StandardCommands.register(new CommandRegistry(), objects), block);
        StartupTrace.phase("commands registered");
    }

    /** A start-up failure: printed as {@code qmpd: <where>: <why>}, exit status 1. */
    static final class StartupException extends Exception {
        StartupException(String message) {
            super(message, null, false, false);
        }
    }

    public static void main(String[] args) {
        StartupTrace.phase("main");
        vertxDefaults();
        StartupPreload.start();
        CommandLine.Outcome outcome;
        try {
            outcome = CommandLine.parse(args.length == 0 ? EmbeddedDefault.argv() : args);
        } catch (CliException e) {
            System.err.println(e.format(CommandLine.PROGRAM));
            System.exit(CliException.EXIT_STATUS);
            return;
        }
        if (outcome instanceof CommandLine.Exit exit) {
            System.out.print(exit.stdout());
            System.exit(0);
            return;
        }
        CommandLine.Run run = (CommandLine.Run) outcome;
        run.warnings().forEach(w -> System.err.println("qmpd: warning: " + w));
        boolean daemonize = run.options().stream().anyMatch(o -> o instanceof CliOption.Daemonize);
        if (daemonize && !Daemonize.isChild()) {
            try {
                System.exit(Daemonize.runParent());
            } catch (IOException | InterruptedException e) {
                System.err.println("qmpd: --daemonize: " + e.getMessage());
                System.exit(1);
            }
            return;
        }
        if (daemonize) {
            Daemonize.detach();
        }
        StartupTrace.phase("command line parsed");
        Main daemon = new Main();
        StartupTrace.phase("daemon created");
        try {
            if (args.length == 0) {
                EmbeddedDefault.prepare();
            }
            daemon.start(run.options());
            daemon.ready();
            StartupTrace.phase("ready");
            if (args.length == 0) {
                EmbeddedDefault.printEndpoints(System.out, daemon.httpPort());
            }
            if (daemonize) {
                Daemonize.ready();
            }
        } catch (StartupException e) {
            System.err.println("qmpd: " + e.getMessage());
            daemon.stop();
            System.exit(1);
        } catch (Exception e) {
            System.err.println("qmpd: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            daemon.stop();
            System.exit(1);
        }
    }

    /**
     * Vert.x carries only QMP and HTTP on sockets and loopback addresses: it needs no DNS resolver
     * of its own (Netty's, read from /etc/resolv.conf at start), and serves no files, so no file
     * cache directory under /tmp. Each stays overridable with its -D flag.
     */
    private static void vertxDefaults() {
        for (String p : List.of("vertx.disableDnsResolver", "vertx.disableFileCPResolving", "vertx.disableFileCaching")) {
            if (System.getProperty(p) == null) {
                System.setProperty(p, "true");
            }
        }
    }

    /** Starts the loops, then applies {@code options} in order. */
    void start(List<CliOption> options) throws Exception {
        mainLoop.start();
        StartupTrace.phase("main loop started");
        server = new QmpServer(registry, mainLoop.context()::runOnce, events, this::quit);
        StartupTrace.phase("QMP server created");
        bindMetrics();
        installSignalHandlers();
        StartupTrace.phase("metrics bound");
        Map<String, ObjectNode> chardevs = new LinkedHashMap<>();
        // QEMU handles --pidfile before everything else, so a second instance fails first.
        List<StateFile.Entry> restore = List.of();
        CliOption.StateFileOpt stateOpt = null;
        for (CliOption o : options) {
            if (o instanceof CliOption.PidfileOpt p) {
                writePidfile(p.path(), p.source());
            } else if (o instanceof CliOption.StateFileOpt s) {
                stateOpt = s;
                try {
                    restore = StateFile.load(s.path());   // a bad file stops us before anything starts
                } catch (StateFile.StateFileException e) {
                    throw new StartupException(s.source() + ": " + e.getMessage());
                }
            }
        }
        // Listeners start last, so no client sees the daemon before its state is restored.
        List<CliOption> listeners = new ArrayList<>();
        for (CliOption o : options) {
            StartupTrace.phase("option " + o.getClass().getSimpleName());
            switch (o) {
                case CliOption.ObjectOpt obj -> {
                    apply("object-add", obj.args(), obj.source());
                    if (obj.qomType().equals("iothread")) {
                        System.err.println("qmpd: iothread " + obj.id() + " started");
                    }
                }
                case CliOption.BlockdevOpt b -> apply("blockdev-add", b.args(), b.source());
                case CliOption.ExportOpt e -> apply("block-export-add", e.args(), e.source());
                case CliOption.NbdServerOpt n -> onMain(n.source(), () -> {
                    JsonNode a = n.args();
                    block.nbdServerStart(BlockService.socketAddress(a.get("addr")),
                            a.hasNonNull("tls-creds") ? a.get("tls-creds").asText() : null,
                            (int) Math.min(Integer.MAX_VALUE, a.path("max-connections").asLong(0)));
                    return null;
                });
                case CliOption.ChardevOpt c -> chardevs.put(c.id(), c.args());
                case CliOption.MonitorOpt m -> listeners.add(m);
                case CliOption.HttpOpt h -> listeners.add(h);
                case CliOption.TraceOpt t -> { }   // accepted for compatibility: qmpd has no trace events
                case CliOption.PidfileOpt p -> { }   // handled above
                case CliOption.Daemonize d -> { }   // handled in main(), before anything starts
                case CliOption.StateFileOpt s -> { }   // handled above
            }
        }
        if (stateOpt != null) {
            int i = 0;
            for (StateFile.Entry e : restore) {
                apply(e.execute(), e.arguments(), stateOpt.source() + ": commands[" + i++ + "] (" + e.execute() + ")");
            }
            if (!restore.isEmpty()) {
                System.err.println("qmpd: restored " + restore.size() + " change(s) from " + stateOpt.path());
            }
            Path statePath = stateOpt.path();
            List<StateFile.Entry> restored = restore;
            stateFile = onMain(stateOpt.source(), () -> StateFile.open(statePath, restored, mainLoop.context()));
            server.setCommandObserver(stateFile);
        }
        for (CliOption o : listeners) {
            StartupTrace.phase("listener " + o.getClass().getSimpleName());
            if (o instanceof CliOption.MonitorOpt m) {
                listen(m, chardevs);
            } else if (o instanceof CliOption.HttpOpt h) {
                startHttp(h);
            }
        }
        StartupTrace.phase("listeners started");
    }

    /** Meters follow objects: the main loop now, IOThreads, nodes and exports as they come and go. */
    private void bindMetrics() {
        metrics.bindIothread(QmpdMetrics.MAIN_LOOP, mainLoop.context());
        metrics.bindQmp(server.stats());
        block.addListener(new BlockService.Listener() {
            @Override
            public void nodeAdded(BlockNode node) {
                metrics.bindNode(node);
            }

            @Override
            public void nodeRemoved(String nodeName) {
                metrics.unbindNode(nodeName);
            }

            @Override
            public void exportAdded(BlockExport export) {
                if (export instanceof NbdExport nbd) {
                    metrics.bindExport(nbd);
                }
            }

            @Override
            public void exportRemoved(String id) {
                metrics.unbindExport(id);
            }
        });
    }

    /** An IOThread backend that binds each IOThread's meters while it runs. */
    private IOThreadBackend metered(IOThreadBackend backend) {
        return (id, props) -> {
            IOThreadBackend.Handle h = backend.start(id, props);
            metrics.bindIothread(id, iothreads.lookup(id).context());
            return new IOThreadBackend.Handle() {
                @Override
                public long threadId() {
                    return h.threadId();
                }

                @Override
                public void update(IothreadProperties p) {
                    h.update(p);
                }

                @Override
                public void stop() {
                    metrics.unbindIothread(id);
                    h.stop();
                }
            };
        };
    }

    /** --http: the REST gateway and /metrics; loopback only unless a token file is given. */
    private void startHttp(CliOption.HttpOpt h) throws StartupException {
        if (http != null) {
            throw new StartupException(h.source() + ": only one --http listener is supported");
        }
        String host = h.args().path("host").asText("127.0.0.1");
        int port = h.args().path("port").asInt();
        Optional<Path> token = pathOption(h, "token-file");
        Optional<Path> cert = pathOption(h, "tls-cert");
        Optional<Path> key = pathOption(h, "tls-key");
        HttpGateway g = new HttpGateway(server, metrics);
        try {
            int actual = g.start(host, port, token, cert, key);
            http = g;
            System.err.println("qmpd: http listening on " + (cert.isPresent() ? "https" : "http") + "://" + host
                    + ":" + actual);
        } catch (IOException | IllegalArgumentException e) {
            throw new StartupException(h.source() + ": " + e.getMessage());
        }
    }

    private static Optional<Path> pathOption(CliOption.HttpOpt h, String name) {
        return h.args().hasNonNull(name) ? Optional.of(Path.of(h.args().get(name).asText())) : Optional.empty();
    }

    /** The HTTP listener's port, or -1 without one. */
    int httpPort() {
        return http == null ? -1 : http.port();
    }

    /** Start-up options are applied: /readyz says so. */
    void ready() {
        if (http != null) {
            http.setReady(true);
        }
    }

    /** Runs {@code command} with {@code args} exactly as a monitor would, on the main loop. */
    private void apply(String command, ObjectNode args, String source) throws Exception {
        QmpCommand<?, ?> cmd = registry.find(command);
        // The command starts on the main loop; its result is awaited here, never on the loop,
        // so a command that completes in a later loop iteration cannot deadlock start-up.
        CompletableFuture<JsonNode> result = onMain(source, () -> {
            ArgumentValidator.validate(cmd.argsSchema(), args);
            return cmd.invoke(args, startupContext()).toCompletableFuture();
        });
        await(source, result);
    }

    private QmpContext startupContext() {
        return new QmpContext() {
            @Override
            public Session session() {
                return new Session() {
                    @Override
                    public Set<String> offeredCapabilities() {
                        return Set.of();
                    }

                    @Override
                    public boolean negotiated() {
                        return true;
                    }

                    @Override
                    public void completeNegotiation(Set<String> enabled) {
                    }
                };
            }

            @Override
            public QmpEvents events() {
                return events;
            }

            @Override
            public CommandRegistry registry() {
                return registry;
            }

            @Override
            public void requestShutdown() {
                Thread.ofPlatform().name("qmpd-quit").start(Main.this::quit);
            }
        };
    }

    private void listen(CliOption.MonitorOpt m, Map<String, ObjectNode> chardevs) throws Exception {
        String id = m.args().path("chardev").asText();
        ObjectNode cd = chardevs.get(id);
        if (cd == null) {
            throw new StartupException(m.source() + ": chardev \"" + id + "\" not found");
        }
        JsonNode backend = cd.path("backend");
        JsonNode data = backend.path("data");
        if (!backend.path("type").asText().equals("socket") || !data.path("server").asBoolean(false)) {
            throw new StartupException(m.source() + ": qmpd monitors need a listening socket chardev (socket,server=on)");
        }
        if (m.args().path("mode").asText("control").equals("readline")) {
            throw new StartupException(m.source() + ": only mode=control (QMP) monitors are supported");
        }
        MonitorOptions options = MonitorOptions.defaults().withPretty(m.args().path("pretty").asBoolean(false));
        JsonNode addr = data.path("addr");
        JsonNode a = addr.path("data");
        Monitor mon;
        try {
            switch (addr.path("type").asText()) {
                case "unix" -> {
                    Path path = Path.of(a.path("path").asText());
                    mon = server.listenUnix(path, options).toCompletableFuture().get(10, TimeUnit.SECONDS);
                    filesToRemove.add(path);
                    System.err.println("qmpd: monitor " + id + " listening on unix:" + path);
                }
                case "inet" -> {
                    String host;
                    try {
                        host = ListenHost.requireNamed(a.path("host").asText());
                    } catch (IllegalArgumentException e) {
                        throw new StartupException("chardev " + id + ": " + e.getMessage());
                    }
                    int port = Integer.parseInt(a.path("port").asText());
                    mon = server.listenTcp(host, port, options).toCompletableFuture().get(10, TimeUnit.SECONDS);
                    System.err.println("qmpd: monitor " + id + " listening on tcp:" + host + ":" + mon.actualPort());
                    if (!ListenHost.isLoopback(host)) {
                        System.err.println("qmpd: warning: " + ListenHost.exposedWarning("monitor " + id,
                                "tcp:" + host + ":" + mon.actualPort()));
                    }
                }
                default -> throw new StartupException(m.source() + ": socket type '" + addr.path("type").asText()
                        + "' is not supported for monitors");
            }
        } catch (ExecutionException e) {
            throw new StartupException("chardev " + id + ": " + e.getCause().getMessage());
        } catch (NumberFormatException e) {
            throw new StartupException("chardev " + id + ": port must be a number");
        }
    }

    private void writePidfile(Path path, String source) throws StartupException {
        // QEMU's qemu_write_pidfile: lock it, so that a second instance fails clearly.
        try {
            RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw");
            if (f.getChannel().tryLock() == null) {
                f.close();
                throw new StartupException(source + ": Cannot lock pid file: another process holds it");
            }
            f.setLength(0);
            f.write((ProcessHandle.current().pid() + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            filesToRemove.add(path);   // the lock lives as long as the process: f stays open
        } catch (IOException e) {
            throw new StartupException(source + ": Cannot open pid file: " + e.getMessage());
        }
    }

    private <T> T onMain(String source, Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        mainLoop.context().runOnce("main:start-up", () -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return await(source, f);
    }

    /** Waits (off the loops) for start-up work, turning its failure into a one-line message. */
    private static <T> T await(String source, CompletableFuture<T> f) throws Exception {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof QmpException q) {
                throw new StartupException(source + ": " + q.getMessage());
            }
            throw new StartupException(source + ": " + c);
        }
    }

    /**
     * SIGINT, SIGTERM and SIGHUP stop the daemon like {@code quit}, with status 0 as QSD does; the
     * JVM's own handlers would exit with 128+signal, hence sun.misc.Signal (jdk.unsupported).
     */
    private void installSignalHandlers() {
        for (String sig : List.of("INT", "TERM", "HUP")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> Thread.ofPlatform().name("qmpd-signal")
                        .start(this::quit));
            } catch (IllegalArgumentException e) {
                // Signal not available here (e.g. already used by the JVM): JVM defaults apply.
            }
        }
    }

    /** quit, SIGINT, SIGTERM, SIGHUP: stop everything and exit 0. */
    private void quit() {
        stop();
        System.exit(0);
    }

    /**
     * Listeners first, then exports and nodes (drained, closed), IOThreads, the main loop, files.
     * Each step runs whatever the one before it threw (a daemon has nowhere to show a stack), so
     * the socket files and the pidfile always go.
     */
    void stop() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        try {
            step("stopping the HTTP listener", () -> {
                if (http != null) {
                    http.stop();
                }
            });
            step("closing the monitors", () -> {
                if (server != null) {
                    server.close();
                }
            });
            if (mainLoop.thread() != null && mainLoop.thread().isAlive()) {
                step("shutdown", () -> onMain("shutdown", () -> {
                    if (stateFile != null) {
                        stateFile.close();
                    }
                    block.shutdown();
                    objects.stopAll();
                    return null;
                }));
                step("stopping the main loop", mainLoop::stop);
            }
            step("closing the metrics", metrics::close);
        } finally {
            for (Path p : filesToRemove) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    System.err.println("qmpd: removing " + p + ": " + e.getMessage());
                }
            }
        }
    }

    /** A step of {@link #stop}: its failure is reported on stderr and the next step runs. */
    private static void step(String what, Callable<?> action) {
        try {
            action.call();
        } catch (Exception | AssertionError e) {
            System.err.println("qmpd: " + what + ": " + e.getMessage());
        }
    }

    private static void step(String what, Runnable action) {
        step(what, () -> {
            action.run();
            return null;
        });
    }

}
