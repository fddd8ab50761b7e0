package qmpd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import qmpd.config.schema.IothreadProperties;
import qmpd.qmp.MonitorOptions;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.StandardCommands;
import qmpd.qmp.qom.IOThreadUsers;
import qmpd.loop.IOThreadRegistry;
import qmpd.loop.MainLoop;
import qmpd.qmp.qom.AioIOThreads;
import qmpd.qmp.qom.QomObjects;
import qmpd.qmp.server.Monitor;
import qmpd.qmp.server.QmpServer;

/**
 * The daemon's entry point, qemu-storage-daemon style:
 * <pre>
 * qmpd --chardev socket,path=P,server=on,wait=off,id=m0 --monitor chardev=m0[,pretty=on]
 *      --chardev socket,host=H,port=N,server=on,wait=off,id=m1 --monitor chardev=m1
 *      --object iothread,id=io0[,poll-max-ns=N,...]
 * </pre>
 * It starts the main loop, the IOThreads and the monitors, reports them on stderr, and stops
 * cleanly (listeners, IOThreads, socket files; exit status 0) on {@code quit}, SIGINT or SIGTERM.
 * The option parsing here is deliberately minimal; the full QEMU key=value parser replaces it.
 */
public final class Main {
    private final MainLoop mainLoop = new MainLoop();
    private final IOThreadRegistry iothreads = new IOThreadRegistry();
    private final QmpEvents events = new QmpEvents();
    private final QomObjects objects = new QomObjects(new AioIOThreads(iothreads), IOThreadUsers.NONE);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private QmpServer server;

    /** Thrown for bad command lines: printed without a stack trace, exit status 1. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        Main daemon = new Main();
        try {
            daemon.start(args);
        } catch (UsageException e) {
            System.err.println("qmpd: " + e.getMessage());
            daemon.stop();
            System.exit(1);
        } catch (Exception e) {
            System.err.println("qmpd: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            daemon.stop();
            System.exit(1);
        }
    }

    void start(String[] args) throws Exception {
        Map<String, Map<String, String>> chardevs = new LinkedHashMap<>();
        List<Map<String, String>> monitors = new ArrayList<>();
        List<Map<String, String>> iothreads = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String opt = args[i];
            String value;
            int eq = opt.indexOf('=');
            if (opt.startsWith("--") && eq > 0) {
                value = opt.substring(eq + 1);
                opt = opt.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new UsageException("option " + opt + " needs an argument");
                }
                value = args[++i];
            }
            switch (opt) {
                case "--chardev" -> {
                    Map<String, String> kv = keyval(value, "backend");
                    chardevs.put(require(kv, "id", "--chardev"), kv);
                }
                case "--monitor" -> monitors.add(keyval(value, "chardev"));
                case "--object" -> {
                    Map<String, String> kv = keyval(value, "qom-type");
                    if (!"iothread".equals(kv.get("qom-type"))) {
                        throw new UsageException("--object: only qom-type iothread is supported here");
                    }
                    iothreads.add(kv);
                }
                default -> throw new UsageException("unknown option " + opt);
            }
        }

        mainLoop.start();
        CommandRegistry registry = StandardCommands.register(new CommandRegistry(), objects);
        server = new QmpServer(registry, mainLoop.context()::runOnce, events, this::quit);
        installSignalHandlers();

        for (Map<String, String> io : iothreads) {
            String id = require(io, "id", "--object");
            IothreadProperties props = new IothreadProperties(num(io, "aio-max-batch"), num(io, "thread-pool-min"),
                    num(io, "thread-pool-max"), num(io, "poll-max-ns"), num(io, "poll-grow"), num(io, "poll-shrink"));
            long tid = onMainLoop(() -> objects.addIothread(id, props).threadId());
            System.err.println("qmpd: iothread " + id + " started (thread-id " + tid + ")");
        }
        for (Map<String, String> mon : monitors) {
            String chardevId = require(mon, "chardev", "--monitor");
            Map<String, String> cd = chardevs.get(chardevId);
            if (cd == null) {
                throw new UsageException("--monitor: chardev '" + chardevId + "' not found");
            }
            if (!"socket".equals(cd.get("backend"))) {
                throw new UsageException("--chardev " + chardevId + ": only socket chardevs are supported");
            }
            if (!"on".equals(cd.get("server"))) {
                throw new UsageException("--chardev " + chardevId + ": only listening sockets (server=on) are supported");
            }
            MonitorOptions options = MonitorOptions.defaults().withPretty("on".equals(mon.get("pretty")));
            Monitor m;
            if (cd.containsKey("path")) {
                m = server.listenUnix(Path.of(cd.get("path")), options).toCompletableFuture().get(10, TimeUnit.SECONDS);
                System.err.println("qmpd: monitor " + chardevId + " listening on unix:" + cd.get("path"));
            } else {
                String host = cd.getOrDefault("host", "127.0.0.1");
                int port = Integer.parseInt(require(cd, "port", "--chardev"));
                m = server.listenTcp(host, port, options).toCompletableFuture().get(10, TimeUnit.SECONDS);
                System.err.println("qmpd: monitor " + chardevId + " listening on tcp:" + host + ":" + m.actualPort());
            }
        }
    }

    private <T> T onMainLoop(java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        mainLoop.context().runOnce("main:start-up", () -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new UsageException(e.getCause().getMessage());
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

    void stop() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        if (server != null) {
            server.close();
        }
        if (mainLoop.thread().isAlive()) {
            try {
                onMainLoop(() -> {
                    objects.stopAll();
                    return null;
                });
            } catch (Exception e) {
                System.err.println("qmpd: stopping IOThreads: " + e.getMessage());
            }
        }
        try {
            mainLoop.stop();
        } catch (RuntimeException e) {
            System.err.println("qmpd: stopping the main loop: " + e.getMessage());
        }
    }

    /** QEMU-style {@code implied,key=value,...}; {@code ,,} is a literal comma. */
    static Map<String, String> keyval(String text, String impliedKey) throws UsageException {
        Map<String, String> kv = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' && i + 1 < text.length() && text.charAt(i + 1) == ',') {
                cur.append(',');
                i++;
            } else if (c == ',') {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            int eq = p.indexOf('=');
            if (eq < 0) {
                if (i == 0 && impliedKey != null) {
                    kv.put(impliedKey, p);
                    continue;
                }
                throw new UsageException("expected key=value, got '" + p + "'");
            }
            kv.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return kv;
    }

    private static String require(Map<String, String> kv, String key, String opt) throws UsageException {
        String v = kv.get(key);
        if (v == null || v.isEmpty()) {
            throw new UsageException(opt + ": parameter '" + key + "' is missing");
        }
        return v;
    }

    private static Long num(Map<String, String> kv, String key) throws UsageException {
        String v = kv.get(key);
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--object: parameter '" + key + "' expects a number");
        }
    }
}
