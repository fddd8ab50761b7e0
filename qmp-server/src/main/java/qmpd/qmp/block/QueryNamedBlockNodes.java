package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import qmpd.block.BlockNode;
import qmpd.config.json.Json;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code query-named-block-nodes}: every node, newest first (qmpd has no backing chains, so flat changes nothing). */
public final class QueryNamedBlockNodes extends QmpCommand<QueryNamedBlockNodes.Args, JsonNode> {
    public record Args(@OptionalMember Boolean flat) {
    }

    private final BlockService block;

    public QueryNamedBlockNodes(BlockService block) {
        super("query-named-block-nodes", Args.class, JsonNode.class);
        this.block = block;
    }

    @Override
    protected JsonNode execute(Args args, QmpContext ctx) {
        List<BlockNode> nodes = new ArrayList<>(block.graph().nodes());
        Collections.reverse(nodes);
        ArrayNode out = Json.mapper().createArrayNode();
        for (BlockNode n : nodes) {
            out.add(BlockNodeInfo.deviceInfo(n, block.optionsOf(n.nodeName())));
        }
        return out;
    }
}
