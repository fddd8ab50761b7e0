package qmpd.block.export.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.AioContext;
import qmpd.aio.FdHandler;
import qmpd.aio.Fds;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.HomeThread;
import qmpd.block.BlockNode;
import qmpd.config.error.QmpException;
import qmpd.loop.GlobalLock;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The NBD server (nbd-server-start): one listening socket, accepted in the main loop's context,
 * and the table of exports by name. Handshakes run in the main loop; transmission in each export's
 * node context. All methods but the accept handler are global state.
 */
public final class NbdServer {

    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    private final AioContext mainCtx;
    private final ServerSocketChannel listener;
    private final Path unixPath;
    private final int maxConnections;
    private final FdHandler acceptHandler;
    private final Map<String, NbdExport> byName = new LinkedHashMap<>();     // @GlobalState
    private final Set<NbdConnection> connections = new LinkedHashSet<>();   // @GlobalState
    private boolean stopped;                                                 // @GlobalState

    private NbdServer(AioContext mainCtx, ServerSocketChannel listener, Path unixPath, int maxConnections) throws IOException {
        this.mainCtx = mainCtx;
        this.listener = listener;
        this.unixPath = unixPath;
        this.maxConnections = maxConnections;
        listener.configureBlocking(false);
        this.acceptHandler = mainCtx.setFdHandler(Fds.fdOf(listener), this::accept, null, null);
    }

    /**
     * Listens on a UNIX socket (created owner-only) or a TCP address. {@code maxConnections} 0 means
     * no limit; at the limit the listener pauses and new clients wait in the backlog, as in QEMU.
     */
    @GlobalState
    public static NbdServer start(AioContext mainCtx, SocketAddress address, int maxConnections) {
        GlobalLock.assertHeld();
        ServerSocketChannel ch = null;
        Path path = null;
        try {
            if (address instanceof UnixDomainSocketAddress u) {
                path = u.getPath();
                if (Files.exists(path)) {
                    ensureStale(path);
                }
                ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                ch.bind(u);
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            } else {
                ch = ServerSocketChannel.open();
                ch.bind(address, 128);
            }
            return new NbdServer(mainCtx, ch, path, maxConnections);
        } catch (IOException | UnsupportedOperationException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // reporting the bind failure matters more
                }
            }
            throw new QmpException.GenericError("Failed to bind socket to " + describe(address) + ": " + e.getMessage());
        }
    }

    /** A socket file nobody answers on is left over from a dead server: remove it. */
    private static void ensureStale(Path path) throws IOException {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("Address already in use");
        } catch (IOException e) {
            if ("Address already in use".equals(e.getMessage())) {
                throw e;
            }
            Files.deleteIfExists(path);
        }
    }

    private static String describe(SocketAddress a) {
        if (a instanceof UnixDomainSocketAddress u) {
            return u.getPath().toString();
        }
        if (a instanceof InetSocketAddress i) {
            return i.getHostString() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    /** The bound address (with the real port when 0 was asked). */
    @AnyThread
    public SocketAddress localAddress() {
        try {
            return listener.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    @HomeThread
    private void accept() {
        while (!stopped && (maxConnections == 0 || connections.size() < maxConnections)) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                LOG.warn("event=nbd-accept-error error=\"{}\"", e.getMessage());
                return;
            }
            if (ch == null) {
                return;
            }
            try {
                NbdConnection c = new NbdConnection(ch, this);
                connections.add(c);
                c.start(mainCtx);
            } catch (IOException e) {
                LOG.debug("event=nbd-connection-setup-error error=\"{}\"", e.getMessage());
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the client sees the close either way
                }
            }
        }
        if (maxConnections > 0 && connections.size() >= maxConnections) {
            acceptHandler.setInterest(false, false);
        }
    }

    /** Called in the connection's home thread when it has closed; bookkeeping hops to the main loop. */
    @AnyThread
    void connectionClosed(NbdConnection c) {
        mainCtx.runOnce("nbd-connection-closed", () -> {
            connections.remove(c);
            NbdExport e = c.export();
            if (e != null) {
                e.disconnected(c);
            }
            if (!stopped && maxConnections > 0 && connections.size() < maxConnections) {
                acceptHandler.setInterest(true, false);
            }
        });
    }

    // ------------------------------------------------------------------ exports

    /** Publishes an export under its name (block-export-add type=nbd). */
    @GlobalState
    public NbdExport addExport(String id, String name, String description, BlockNode node, boolean writable) {
        String n = name == null ? node.nodeName() : name;
        if (byName.containsKey(n)) {
            throw new QmpException.GenericError("NBD server already has export named '" + n + "'");
        }
        if (n.length() > Nbd.MAX_STRING_SIZE) {
            throw new QmpException.GenericError("export name '" + n.substring(0, 20) + "...' too long");
        }
        if (description != null && description.length() > Nbd.MAX_STRING_SIZE) {
            throw new QmpException.GenericError("description '" + description.substring(0, 20) + "...' too long");
        }
        if (writable && node.readOnly()) {
            throw new QmpException.GenericError("Cannot export read-only node as writable");
        }
        NbdExport e = new NbdExport(id, n, description, node, writable, this);
        byName.put(n, e);
        node.addContextListener(e);
        return e;
    }

    @GlobalState
    void unpublish(NbdExport e) {
        byName.remove(e.name(), e);
    }

    @GlobalState
    public List<NbdExport> exports() {
        return List.copyOf(byName.values());
    }

    // Called by handshakes, which run in the main loop.
    NbdExportInfo lookupInfo(String name) {
        return byName.get(name);
    }

    List<NbdExportInfo> listInfo() {
        return new ArrayList<>(byName.values());
    }

    @GlobalState
    public int connectionCount() {
        return connections.size();
    }

    /** Stops listening and drops every client still negotiating; exports are shut down by their owner. */
    @GlobalState
    public void stop() {
        GlobalLock.assertHeld();
        if (stopped) {
            return;
        }
        stopped = true;
        acceptHandler.remove();
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("event=nbd-listener-close-error error=\"{}\"", e.getMessage());
        }
        if (unixPath != null) {
            try {
                Files.deleteIfExists(unixPath);
            } catch (IOException e) {
                LOG.debug("event=nbd-socket-unlink-error error=\"{}\"", e.getMessage());
            }
        }
        for (NbdConnection c : List.copyOf(connections)) {
            if (c.export() == null) {
                c.runInHome("nbd-server-stop", c::abort);
            }
        }
    }
}
