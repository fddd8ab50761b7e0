package qmpd.qmp.block;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.config.cli.OptionSchemas;
import qmpd.qmp.command.JsonArgsCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.SchemaBridge;

/** {@code block-export-add}: exports a node (type nbd), moving it to {@code iothread} first if given. */
public final class BlockExportAdd extends JsonArgsCommand {
    private final BlockService block;

    public BlockExportAdd(BlockService block) {
        super("block-export-add", SchemaBridge.struct(OptionSchemas.EXPORT));
        this.block = block;
    }

    @Override
    protected void run(ObjectNode args, QmpContext ctx) {
        block.addExport(args);
    }
}
