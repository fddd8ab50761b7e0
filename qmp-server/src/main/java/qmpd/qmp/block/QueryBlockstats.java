package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.block.BlockChild;
import qmpd.block.BlockNode;
import qmpd.config.json.Json;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/**
 * {@code query-blockstats}: without {@code query-nodes}, the named backends (none, as in
 * qemu-storage-daemon); with it, every node, oldest first, with its first child as {@code parent}.
 */
public final class QueryBlockstats extends QmpCommand<QueryBlockstats.Args, JsonNode> {
    public record Args(@OptionalMember Boolean queryNodes) {
    }

    private final BlockService block;

    public QueryBlockstats(BlockService block) {
        super("query-blockstats", Args.class, JsonNode.class);
        this.block = block;
    }

    @Override
    protected JsonNode execute(Args args, QmpContext ctx) {
        ArrayNode out = Json.mapper().createArrayNode();
        if (!Boolean.TRUE.equals(args.queryNodes())) {
            return out;
        }
        for (BlockNode n : block.graph().nodes()) {
            out.add(entry(n));
        }
        return out;
    }

    private static ObjectNode entry(BlockNode n) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("node-name", n.nodeName());
        o.set("stats", BlockNodeInfo.stats(n));
        if (!n.children().isEmpty()) {
            BlockChild c = n.children().getFirst();
            o.set("parent", entry(c.node()));
        }
        return o;
    }
}
