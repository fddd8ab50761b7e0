package qmpd.block;

import qmpd.aio.annotation.GlobalState;
import qmpd.loop.GlobalLock;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A drained section (QEMU's bdrv_drained_begin/end): no new user requests start on the node, its
 * parents or its children, and every request already in flight among them has completed. Graph
 * changes and context moves happen inside one.
 *
 * <p>Order as in QEMU's drain rework (STYLE.md §3 trap 5): first quiesce every node of the
 * connected component (new user requests are parked from then on), then poll once until all are
 * idle. Requests between nodes (a format to its protocol child) still flow, so in-flight requests
 * can finish. Sections nest.
 */
public final class Drained implements AutoCloseable {

    private final List<BlockNode> nodes;
    private boolean ended;

    private Drained(List<BlockNode> nodes) {
        this.nodes = nodes;
    }

    /** Begins a drained section around {@code node} and everything connected to it. */
    @GlobalState
    public static Drained begin(BlockNode node) {
        GlobalLock.assertHeld();
        List<BlockNode> component = component(node);
        for (BlockNode n : component) {
            n.quiesceBegin();
        }
        BlockNode.waitIdle(node.context(), component);
        return new Drained(component);
    }

    /** Drains every node of the graph (QEMU's bdrv_drain_all_begin), context by context. */
    @GlobalState
    public static Drained beginAll(BlockGraph graph) {
        GlobalLock.assertHeld();
        List<BlockNode> all = graph.nodes();
        for (BlockNode n : all) {
            n.quiesceBegin();
        }
        for (BlockNode n : all) {
            BlockNode.waitIdle(n.context(), List.of(n));
        }
        return new Drained(all);
    }

    /** The nodes this section holds quiesced. */
    public List<BlockNode> nodes() {
        return nodes;
    }

    /** Ends the section; parked requests restart in each node's home thread at that time. */
    @GlobalState
    @Override
    public void close() {
        GlobalLock.assertHeld();
        if (ended) {
            return;
        }
        ended = true;
        for (BlockNode n : nodes) {
            n.quiesceEnd();
        }
    }

    /** The node and every node reachable through parent and child edges. */
    static List<BlockNode> component(BlockNode start) {
        Set<BlockNode> seen = new LinkedHashSet<>();
        ArrayDeque<BlockNode> todo = new ArrayDeque<>();
        todo.add(start);
        while (!todo.isEmpty()) {
            BlockNode n = todo.poll();
            if (seen.add(n)) {
                for (BlockChild c : n.children()) {
                    todo.add(c.node());
                }
                todo.addAll(n.parents());
            }
        }
        return new ArrayList<>(seen);
    }
}
