package qmpd.block.export.nbd;

import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.block.BlockNode;
import qmpd.block.export.BlockExport;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An NBD export: a name on the server, the node it serves, whether clients may write, and the
 * clients connected to it. Its connections run in the node's context and follow it when it moves
 * (the export is a context listener of the node, as QEMU's export is of its BlockBackend).
 */
public final class NbdExport implements BlockExport, NbdExportInfo, BlockNode.ContextListener {

    private final String id;
    private final String name;
    private final String description;
    private final BlockNode node;
    private final boolean writable;
    private final NbdServer server;
    private final List<NbdConnection> connections = new ArrayList<>();   // @GlobalState
    private boolean shuttingDown;                                        // @GlobalState
    private Runnable onGone;                                             // @GlobalState
    private volatile long accepted;   // written by the main loop only, read by scrapes
    private volatile long refused;    // written by the main loop only, read by scrapes
    private final NbdRequestCounters requestCounters = new NbdRequestCounters();   // node's home thread

    NbdExport(String id, String name, String description, BlockNode node, boolean writable, NbdServer server) {
        this.id = Objects.requireNonNull(id, "id");
        this.name = Objects.requireNonNull(name, "name");
        this.description = description;
        this.node = Objects.requireNonNull(node, "node");
        this.writable = writable;
        this.server = server;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return "nbd";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public BlockNode node() {
        return node;
    }

    @AnyThread
    public boolean writable() {
        return writable;
    }

    @Override
    public long size() {
        return node.size();
    }

    /** QEMU 7.2's flags, plus CAN_MULTI_CONN: a flush on any connection covers every completed write. */
    @Override
    public int transmissionFlags() {
        int f = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA | Nbd.FLAG_SEND_CACHE
                | Nbd.FLAG_CAN_MULTI_CONN;
        return writable ? f | Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_SEND_FAST_ZERO
                : f | Nbd.FLAG_READ_ONLY;
    }

    @Override
    public int minimumBlockSize() {
        return node.driverState().requestAlignment();
    }

    @Override
    @GlobalState
    public boolean shuttingDown() {
        return shuttingDown;
    }

    @GlobalState
    public int connectionCount() {
        return connections.size();
    }

    /** A client finished its handshake on this export; false if the export is going away. */
    @GlobalState
    boolean connect(NbdConnection c) {
        if (shuttingDown) {
            refused = refused + 1;   // single writer: the main loop
            return false;
        }
        connections.add(c);
        accepted = accepted + 1;
        return true;
    }

    /** Clients that finished a handshake on this export since it was added (a counter; any thread). */
    @AnyThread
    public long connectionsAccepted() {
        return accepted;
    }

    /** Clients that chose this export while it was shutting down, and were dropped (any thread). */
    @AnyThread
    public long connectionsRefused() {
        return refused;
    }

    /** What the export's clients asked for and which requests failed (a counter set; any thread reads). */
    @AnyThread
    public NbdRequestCounters requestCounters() {
        return requestCounters;
    }

    @GlobalState
    void disconnected(NbdConnection c) {
        connections.remove(c);
        if (shuttingDown && connections.isEmpty() && onGone != null) {
            Runnable r = onGone;
            onGone = null;
            r.run();
        }
    }

    @Override
    @GlobalState
    public boolean inUse() {
        return !connections.isEmpty();
    }

    /**
     * Stops serving: with {@code hard}, drops every client (their in-flight requests still
     * complete); then {@code gone} runs in the main loop once the last connection has closed.
     */
    @Override
    @GlobalState
    public void shutdown(boolean hard, Runnable gone) {
        shuttingDown = true;
        server.unpublish(this);
        node.removeContextListener(this);
        onGone = gone;
        if (hard) {
            for (NbdConnection c : List.copyOf(connections)) {
                c.runInHome("nbd-export-drop", c::abort);
            }
        }
        if (connections.isEmpty() && onGone != null) {
            Runnable r = onGone;
            onGone = null;
            r.run();
        }
    }

    @Override
    @GlobalState
    public void detach(AioContext old) {
        old.acquire();
        try {
            for (NbdConnection c : connections) {
                c.detach(old);
            }
        } finally {
            old.release();
        }
    }

    @Override
    @GlobalState
    public void attach(AioContext ctx) {
        for (NbdConnection c : connections) {
            c.attach(ctx);
        }
    }
}
