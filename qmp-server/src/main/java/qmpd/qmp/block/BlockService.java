package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.AioContext;
import qmpd.aio.AioWait;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.block.BlockGraph;
import qmpd.block.BlockNode;
import qmpd.block.export.BlockExport;
import qmpd.block.export.nbd.NbdExport;
import qmpd.block.export.nbd.NbdServer;
import qmpd.config.cli.OptionSchemas;
import qmpd.config.error.QmpException;
import qmpd.config.keyval.InputVisitor;
import qmpd.config.keyval.KeyvalException;
import qmpd.config.schema.block.BlockdevOptionsReader;
import qmpd.loop.GlobalLock;
import qmpd.loop.IOThread;
import qmpd.loop.IOThreadRegistry;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.qom.IOThreadUsers;

/**
 * The block layer as the monitor sees it (QEMU's blockdev.c, block/export/export.c and
 * blockdev-nbd.c): the node graph, the NBD server and the exports by id. Every method is
 * {@code @GlobalState}: it runs in the main loop with the GlobalLock held, as QMP commands and
 * start-up options do, so the fields below need no other lock.
 */
public final class BlockService implements IOThreadUsers {
    private static final Logger LOG = LoggerFactory.getLogger(BlockService.class);

    /** Told when nodes and exports come and go (metrics); called in the main loop. */
    public interface Listener {
        @GlobalState
        default void nodeAdded(BlockNode node) {
        }

        @GlobalState
        default void nodeRemoved(String nodeName) {
        }

        @GlobalState
        default void exportAdded(BlockExport export) {
        }

        @GlobalState
        default void exportRemoved(String id) {
        }
    }

    private final AioContext mainCtx;
    private final BlockGraph graph;
    private final IOThreadRegistry iothreads;
    private final QmpEvents events;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    /** Exports by id, oldest first; a deleted export leaves when its last client is gone. */
    private final Map<String, BlockExport> exports = new LinkedHashMap<>();
    /** The blockdev-add arguments of each node added by name, as visited (for query-named-block-nodes). */
    private final Map<String, ObjectNode> options = new LinkedHashMap<>();
    private NbdServer nbd;

    public BlockService(AioContext mainCtx, IOThreadRegistry iothreads, QmpEvents events) {
        this.mainCtx = mainCtx;
        this.graph = BlockGraph.withBuiltinDrivers(mainCtx);
        this.iothreads = iothreads;
        this.events = events;
    }

    @AnyThread
    public BlockGraph graph() {
        return graph;
    }

    @AnyThread
    public void addListener(Listener l) {
        listeners.add(l);
    }

    // ---------------------------------------------------------------- nodes

    /** blockdev-add: visits the arguments with the full schema (inline children too), then builds. */
    @GlobalState
    public BlockNode addNode(ObjectNode args) {
        GlobalLock.assertHeld();
        ObjectNode typed;
        try {
            typed = InputVisitor.visitObject(OptionSchemas.BLOCKDEV, args, InputVisitor.Mode.JSON);
        } catch (KeyvalException e) {
            throw new QmpException.GenericError(e.getMessage());
        }
        int before = graph.nodes().size();
        BlockNode node = graph.add(BlockdevOptionsReader.read(typed));
        options.put(node.nodeName(), typed);
        if (graph.nodes().size() > before) {
            for (BlockNode n : graph.nodes().subList(before, graph.nodes().size())) {
                listeners.forEach(l -> l.nodeAdded(n));
            }
        }
        LOG.info("event=blockdev-add node={} driver={}", node.nodeName(), node.driverName());
        return node;
    }

    /** blockdev-del. */
    @GlobalState
    public void deleteNode(String nodeName) {
        GlobalLock.assertHeld();
        List<String> before = graph.nodes().stream().map(BlockNode::nodeName).toList();
        graph.delete(nodeName);
        for (String name : before) {
            if (graph.find(name) == null) {
                options.remove(name);
                listeners.forEach(l -> l.nodeRemoved(name));
            }
        }
        LOG.info("event=blockdev-del node={}", nodeName);
    }

    /** The options a node was added with, or null for an inline child. */
    @GlobalState
    public ObjectNode optionsOf(String nodeName) {
        return options.get(nodeName);
    }

    /** QEMU's bdrv_lookup_bs for commands taking {@code device} and {@code node-name}. */
    @GlobalState
    public BlockNode lookup(String device, String nodeName) {
        BlockNode n = nodeName != null ? graph.find(nodeName) : null;
        if (n == null && device != null) {
            n = graph.find(device);   // qmpd has no named BlockBackends: a device name is a node name
        }
        if (n == null) {
            throw new QmpException.GenericError("Cannot find device='" + (device == null ? "" : device)
                    + "' nor node-name='" + (nodeName == null ? "" : nodeName) + "'");
        }
        return n;
    }

    /** x-blockdev-set-iothread; {@code iothreadId} null means the main loop. */
    @GlobalState
    public void setIothread(String nodeName, String iothreadId, boolean force) {
        GlobalLock.assertHeld();
        BlockNode node = graph.require(nodeName);
        if (!force && node.inUse()) {
            throw new QmpException.GenericError("Node " + nodeName + " is associated with a BlockBackend and could "
                    + "be in use (use force=true to override this check)");
        }
        AioContext target = mainCtx;
        if (iothreadId != null) {
            IOThread t = iothreads.lookup(iothreadId);
            if (t == null) {
                throw new QmpException.GenericError("Cannot find iothread " + iothreadId);
            }
            target = t.context();
        }
        graph.setContext(node, target);
        LOG.info("event=node-moved node={} iothread={}", nodeName, iothreadId == null ? "main-loop" : iothreadId);
    }

    /** The IOThread id a node runs in, or null for the main loop. */
    @GlobalState
    public String iothreadOf(BlockNode node) {
        for (IOThread t : iothreads.all()) {
            if (t.context() == node.context()) {
                return t.id();
            }
        }
        return null;
    }

    @Override
    @GlobalState
    public List<String> usersOf(String iothreadId) {
        IOThread t = iothreads.lookup(iothreadId);
        List<String> users = new ArrayList<>();
        if (t != null) {
            for (BlockNode n : graph.nodes()) {
                if (n.context() == t.context()) {
                    users.add("node '" + n.nodeName() + "'");
                }
            }
        }
        return users;
    }

    // ---------------------------------------------------------------- NBD server

    /** nbd-server-start and --nbd-server. */
    @GlobalState
    public void nbdServerStart(SocketAddress addr, String tlsCreds, int maxConnections) {
        GlobalLock.assertHeld();
        if (nbd != null) {
            throw new QmpException.GenericError("NBD server already running");
        }
        if (tlsCreds != null) {
            // qmpd has no TLS credential objects yet, so no id can name one.
            throw new QmpException.GenericError("No TLS credentials with id '" + tlsCreds + "'");
        }
        nbd = NbdServer.start(mainCtx, addr, maxConnections);
        LOG.info("event=nbd-server-start addr={}", nbd.localAddress());
        if (nbd.localAddress() instanceof InetSocketAddress in && !in.getAddress().isLoopbackAddress()) {
            LOG.warn("event=nbd-server-exposed {}", qmpd.qmp.ListenHost.exposedWarning("the NBD server",
                    in.getAddress().getHostAddress() + ":" + in.getPort()));
        }
    }

    @GlobalState
    public NbdServer nbdServer() {
        return nbd;
    }

    /** nbd-server-stop: drops every NBD export's clients, waits until the exports are gone, stops listening. */
    @GlobalState
    public void nbdServerStop() {
        GlobalLock.assertHeld();
        if (nbd == null) {
            throw new QmpException.GenericError("NBD server not running");
        }
        for (BlockExport e : List.copyOf(exports.values())) {
            if (e instanceof NbdExport && !e.shuttingDown()) {
                shutdownExport(e, true);
            }
        }
        AioWait.waitWhile(mainCtx, () -> exports.values().stream().anyMatch(e -> e instanceof NbdExport));
        nbd.stop();
        nbd = null;
        LOG.info("event=nbd-server-stop");
    }

    /** Parses a flat SocketAddress ({@code --nbd-server addr.type=unix,addr.path=...}). */
    @AnyThread
    public static SocketAddress socketAddress(JsonNode addr) {
        String type = addr.path("type").asText();
        return switch (type) {
            case "unix" -> {
                if (addr.path("abstract").asBoolean(false)) {
                    throw new QmpException.GenericError("Abstract UNIX sockets are not supported");
                }
                yield UnixDomainSocketAddress.of(Path.of(addr.path("path").asText()));
            }
            case "inet" -> {
                String port = addr.path("port").asText();
                int p;
                try {
                    p = Integer.parseInt(port);
                } catch (NumberFormatException e) {
                    throw new QmpException.GenericError("Parameter 'port' expects a port number, not '" + port + "'");
                }
                if (p < 0 || p > 65535) {
                    throw new QmpException.GenericError("Port '" + port + "' out of range");
                }
                String host;
                try {
                    host = qmpd.qmp.ListenHost.requireNamed(addr.path("host").asText());
                } catch (IllegalArgumentException e) {
                    throw new QmpException.GenericError("Parameter 'host': " + e.getMessage());
                }
                yield new InetSocketAddress(host, p);
            }
            default -> throw new QmpException.GenericError("Socket address type '" + type + "' is not supported");
        };
    }

    /** The same for SocketAddressLegacy ({@code {"type": "unix", "data": {"path": ...}}}, nbd-server-start). */
    @AnyThread
    public static SocketAddress legacySocketAddress(JsonNode addr) {
        ObjectNode flat = ((ObjectNode) addr.path("data")).deepCopy();
        flat.put("type", addr.path("type").asText());
        return socketAddress(flat);
    }

    // ---------------------------------------------------------------- exports

    /** block-export-add and --export, in QEMU's order of checks (blk_exp_add). */
    @GlobalState
    public BlockExport addExport(ObjectNode args) {
        GlobalLock.assertHeld();
        ObjectNode a;
        try {
            a = InputVisitor.visitObject(OptionSchemas.EXPORT, args, InputVisitor.Mode.JSON);
        } catch (KeyvalException e) {
            throw new QmpException.GenericError(e.getMessage());
        }
        String id = a.path("id").asText();
        if (!BlockGraph.wellFormed(id)) {
            throw new QmpException.GenericError("Invalid block export id");
        }
        if (exports.containsKey(id)) {
            throw new QmpException.GenericError("Block export id '" + id + "' is already in use");
        }
        BlockNode node = lookup(null, a.path("node-name").asText());
        if (a.hasNonNull("iothread")) {
            String io = a.get("iothread").asText();
            IOThread t = iothreads.lookup(io);
            if (t == null) {
                throw new QmpException.GenericError("iothread \"" + io + "\" not found");
            }
            if (node.context() != t.context()) {
                graph.setContext(node, t.context());
            }
        }
        if (nbd == null) {
            throw new QmpException.GenericError("NBD server not running");
        }
        boolean writable = a.path("writable").asBoolean(false);
        NbdExport e = nbd.addExport(id, a.hasNonNull("name") ? a.get("name").asText() : null,
                a.hasNonNull("description") ? a.get("description").asText() : null, node, writable);
        exports.put(id, e);
        node.addUser(userName(id));
        listeners.forEach(l -> l.exportAdded(e));
        LOG.info("event=export-add id={} node={} name={} writable={}", id, node.nodeName(), e.name(), writable);
        return e;
    }

    /** block-export-del: safe refuses an export with clients; the event follows when it is gone. */
    @GlobalState
    public void deleteExport(String id, boolean hard) {
        GlobalLock.assertHeld();
        BlockExport e = exports.get(id);
        if (e == null) {
            throw new QmpException.GenericError("Export '" + id + "' is not found");
        }
        if (e.shuttingDown()) {
            throw new QmpException.GenericError("Export '" + id + "' is already shutting down");
        }
        if (!hard && e.inUse()) {
            throw new QmpException.GenericError("export '" + id + "' still in use");
        }
        shutdownExport(e, hard);
    }

    private void shutdownExport(BlockExport e, boolean hard) {
        e.shutdown(hard, () -> {
            exports.remove(e.id(), e);
            e.node().removeUser(userName(e.id()));
            listeners.forEach(l -> l.exportRemoved(e.id()));
            LOG.info("event=export-deleted id={}", e.id());
            events.emit("BLOCK_EXPORT_DELETED", Map.of("id", e.id()));
        });
    }

    /** Exports, newest first (query-block-exports' order). */
    @GlobalState
    public List<BlockExport> exports() {
        List<BlockExport> list = new ArrayList<>(exports.values());
        java.util.Collections.reverse(list);
        return list;
    }

    @GlobalState
    public BlockExport findExport(String id) {
        return exports.get(id);
    }

    private static String userName(String exportId) {
        return "export '" + exportId + "'";
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * The daemon is stopping: drop every client (their in-flight requests complete), wait until
     * the exports are gone, stop listening, then drain and close every node.
     */
    @GlobalState
    public void shutdown() {
        GlobalLock.assertHeld();
        for (BlockExport e : List.copyOf(exports.values())) {
            if (!e.shuttingDown()) {
                shutdownExport(e, true);
            }
        }
        AioWait.waitWhile(mainCtx, () -> !exports.isEmpty());
        if (nbd != null) {
            nbd.stop();
            nbd = null;
        }
        graph.closeAll();
    }
}
