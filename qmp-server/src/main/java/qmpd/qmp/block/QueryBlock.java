package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import qmpd.config.json.Json;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/**
 * {@code query-block}: the named BlockBackends (devices). qmpd, like qemu-storage-daemon, has
 * none: exports use anonymous backends, which QEMU leaves out of this list too.
 */
public final class QueryBlock extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
    public QueryBlock() {
        super("query-block", NoArgs.class, JsonNode.class);
    }

    @Override
    protected JsonNode execute(NoArgs args, QmpContext ctx) {
        return Json.mapper().createArrayNode();
    }
}
