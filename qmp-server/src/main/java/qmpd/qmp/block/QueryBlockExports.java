package qmpd.qmp.block;

import java.util.List;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code query-block-exports}: every export, newest first. */
public final class QueryBlockExports extends QmpCommand<QmpCommand.NoArgs, List<QueryBlockExports.BlockExportInfo>> {
    /** QAPI BlockExportInfo. */
    public record BlockExportInfo(String id, String type, String nodeName, boolean shuttingDown) {
    }

    private final BlockService block;

    public QueryBlockExports(BlockService block) {
        super("query-block-exports", NoArgs.class,
                new com.fasterxml.jackson.core.type.TypeReference<List<BlockExportInfo>>() { }.getType());
        this.block = block;
    }

    @Override
    protected List<BlockExportInfo> execute(NoArgs args, QmpContext ctx) {
        return block.exports().stream()
                .map(e -> new BlockExportInfo(e.id(), e.type(), e.node().nodeName(), e.shuttingDown())).toList();
    }
}
