package qmpd.qmp.block;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.config.cli.OptionSchemas;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.RecordSchema;
import qmpd.qmp.schema.SchemaBridge;

/** {@code blockdev-add}: builds a node (and its inline children) from BlockdevOptions. */
public final class BlockdevAdd extends QmpCommand<ObjectNode, QmpCommand.Empty> {
    private final BlockService block;

    public BlockdevAdd(BlockService block) {
        super("blockdev-add", ObjectNode.class, SchemaBridge.struct(OptionSchemas.BLOCKDEV), RecordSchema.of(Empty.class));
        this.block = block;
    }

    @Override
    protected ObjectNode bind(ObjectNode args) {
        return args;
    }

    @Override
    protected Empty execute(ObjectNode args, QmpContext ctx) {
        block.addNode(args);
        return Empty.INSTANCE;
    }
}
