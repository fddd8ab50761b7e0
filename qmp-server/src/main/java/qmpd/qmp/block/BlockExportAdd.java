package qmpd.qmp.block;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.config.cli.OptionSchemas;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.RecordSchema;
import qmpd.qmp.schema.SchemaBridge;

/** {@code block-export-add}: exports a node (type nbd), moving it to {@code iothread} first if given. */
public final class BlockExportAdd extends QmpCommand<ObjectNode, QmpCommand.Empty> {
    private final BlockService block;

    public BlockExportAdd(BlockService block) {
        super("block-export-add", ObjectNode.class, SchemaBridge.struct(OptionSchemas.EXPORT), RecordSchema.of(Empty.class));
        this.block = block;
    }

    @Override
    protected ObjectNode bind(ObjectNode args) {
        return args;
    }

    @Override
    protected Empty execute(ObjectNode args, QmpContext ctx) {
        block.addExport(args);
        return Empty.INSTANCE;
    }
}
