package qmpd.block;

import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.block.driver.blkdebug.BlkdebugDriver;
import qmpd.block.driver.file.FileDriver;
import qmpd.block.driver.nullco.NullDriver;
import qmpd.block.driver.raw.RawDriver;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The block graph: every named node, the drivers that open them, and the global-state operations
 * on them (QEMU's block.c for blockdev-add, blockdev-del, block_resize and context moves).
 * Only the main loop with the GlobalLock changes it; each change happens inside a drained section.
 */
public final class BlockGraph {

    /** QEMU's node_name[32]: a name must leave room for the terminating NUL. */
    private static final int MAX_NODE_NAME = 31;

    private final AioContext mainContext;
    private final Map<String, BlockDriver> drivers = new LinkedHashMap<>();
    private final Map<String, BlockNode> nodes = new LinkedHashMap<>();   // @GlobalState
    private final Set<BlockNode> monitorOwned = new HashSet<>();          // @GlobalState: added by blockdev-add
    private int generatedNames;                                           // @GlobalState

    public BlockGraph(AioContext mainContext, List<BlockDriver> drivers) {
        this.mainContext = mainContext;
        for (BlockDriver d : drivers) {
            this.drivers.put(d.name(), d);
        }
    }

    /** A graph with the built-in drivers: file, raw, null-co, null-aio, blkdebug. */
    public static BlockGraph withBuiltinDrivers(AioContext mainContext) {
        return new BlockGraph(mainContext, List.of(new FileDriver(), new RawDriver(),
                new NullDriver("null-co"), new NullDriver("null-aio"), new BlkdebugDriver()));
    }

    @AnyThread
    public List<String> driverNames() {
        return List.copyOf(drivers.keySet());
    }

    @GlobalState
    public List<BlockNode> nodes() {
        return List.copyOf(nodes.values());
    }

    /** The node with that name, or null. */
    @GlobalState
    public BlockNode find(String nodeName) {
        return nodes.get(nodeName);
    }

    /** The node with that name, or QEMU's error for a missing one. */
    @GlobalState
    public BlockNode require(String nodeName) {
        BlockNode n = nodes.get(nodeName);
        if (n == null) {
            throw new QmpException.GenericError("Failed to find node with node-name='" + nodeName + "'");
        }
        return n;
    }

    /**
     * Builds a node and its inline children (blockdev-add). All or nothing: on any error every node
     * opened for this call is closed again and the graph is as before.
     */
    @GlobalState
    public BlockNode add(BlockdevOptions options) {
        GlobalLock.assertHeld();
        if (options.nodeName() == null) {
            throw new QmpException.GenericError("'node-name' must be specified for the root node");
        }
        List<BlockNode> opened = new ArrayList<>();
        try {
            BlockNode root = open(options, opened);
            monitorOwned.add(root);
            return root;
        } catch (RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                BlockNode n = opened.get(i);
                nodes.remove(n.nodeName());
                n.driverState().close();
            }
            throw e;
        }
    }

    private BlockNode open(BlockdevOptions options, List<BlockNode> opened) {
        String name = options.nodeName() == null ? generateName() : checkName(options.nodeName());
        BlockDriver driver = drivers.get(options.driver());
        if (driver == null) {
            throw new QmpException.GenericError("Parameter 'driver' does not accept value '" + options.driver() + "'");
        }
        // Inline children live where their parent will: for a new node, the main context.
        BlockDriver.OpenEnv env = new BlockDriver.OpenEnv() {
            @Override
            public BlockNode lookup(String nodeName) {
                BlockNode n = nodes.get(nodeName);
                if (n == null) {
                    throw new QmpException.GenericError("Cannot find device='" + nodeName + "' nor node-name='" + nodeName + "'");
                }
                return n;
            }

            @Override
            public BlockNode openInline(BlockdevOptions childOptions) {
                return open(childOptions, opened);
            }

            @Override
            public AioContext context() {
                return mainContext;
            }
        };
        BlockDriverState drv = driver.open(options, env);
        AioContext ctx = drv.children().isEmpty() ? mainContext : drv.children().getFirst().node().context();
        BlockNode node = new BlockNode(name, drv, options.readOnly(), ctx);
        nodes.put(name, node);
        opened.add(node);
        return node;
    }

    private String checkName(String name) {
        if (!wellFormed(name)) {
            throw new QmpException.GenericError("Invalid node-name: '" + name + "'");
        }
        if (nodes.containsKey(name)) {
            throw new QmpException.GenericError("Duplicate nodes with node-name='" + name + "'");
        }
        if (name.length() > MAX_NODE_NAME) {
            throw new QmpException.GenericError("Node name too long");
        }
        return name;
    }

    /** QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_' (node names, export ids). */
    @AnyThread
    public static boolean wellFormed(String id) {
        if (id.isEmpty() || !isAsciiLetter(id.charAt(0))) {
            return false;
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /** QEMU names implicit nodes {@code #block<N>}; '#' keeps them apart from user names. */
    private String generateName() {
        String name;
        do {
            name = "#block" + String.format("%03d", generatedNames++);
        } while (nodes.containsKey(name));
        return name;
    }

    /** Deletes a node added by blockdev-add, and its inline children no one else uses. */
    @GlobalState
    public void delete(String nodeName) {
        GlobalLock.assertHeld();
        BlockNode node = require(nodeName);
        if (!monitorOwned.contains(node)) {
            throw new QmpException.GenericError("Node " + nodeName + " is not owned by the monitor");
        }
        if (node.inUse()) {
            throw new QmpException.GenericError("Block device " + nodeName + " is in use");
        }
        try (Drained d = Drained.begin(node)) {
            monitorOwned.remove(node);
            close(node);
        }
    }

    private void close(BlockNode node) {
        nodes.remove(node.nodeName());
        node.driverState().close();
        for (BlockChild c : node.children()) {
            c.node().parentsRemove(node);
            if (!monitorOwned.contains(c.node()) && !c.node().inUse()) {
                close(c.node());
            }
        }
    }

    /**
     * Moves a node, everything connected to it and their users into {@code ctx}
     * (x-blockdev-set-iothread, an export's iothread). Drained throughout: requests submitted
     * meanwhile are parked and start in the new context.
     */
    @GlobalState
    public void setContext(BlockNode node, AioContext ctx) {
        GlobalLock.assertHeld();
        AioContext target = ctx == null ? mainContext : ctx;
        try (Drained d = Drained.begin(node)) {
            for (BlockNode n : d.nodes()) {
                n.moveTo(target);
            }
        }
    }

    /** block_resize: drains, asks the driver, and records the new size. */
    @GlobalState
    public void resize(BlockNode node, long size) {
        GlobalLock.assertHeld();
        if (size < 0) {
            throw new QmpException.GenericError("Parameter 'size' expects a >0 size");
        }
        if (node.readOnly()) {
            throw new QmpException.GenericError("Node '" + node.nodeName() + "' is read only");
        }
        try (Drained d = Drained.begin(node)) {
            node.driverState().truncate(size);
            refreshSizes(node);
            for (BlockNode p : node.parents()) {
                p.sizeChanged();
            }
        }
    }

    /** Children first: a format's size derives from its child's. */
    private static void refreshSizes(BlockNode node) {
        for (BlockChild c : node.children()) {
            refreshSizes(c.node());
        }
        node.sizeChanged();
    }

    /** Drains and closes every node (shutdown): users first, so the order is parents before children. */
    @GlobalState
    public void closeAll() {
        GlobalLock.assertHeld();
        try (Drained d = Drained.beginAll(this)) {
            // Parents before children; a child added by blockdev-add becomes a root once its
            // parents are gone. The graph has no cycles, so each pass closes at least one node.
            while (!nodes.isEmpty()) {
                for (BlockNode n : List.copyOf(nodes.values())) {
                    if (nodes.containsKey(n.nodeName()) && n.parents().isEmpty()) {
                        monitorOwned.remove(n);
                        close(n);
                    }
                }
            }
        }
    }
}
