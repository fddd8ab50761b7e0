package qmpd.qmp.block;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.config.cli.OptionSchemas;
import qmpd.qmp.command.JsonArgsCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.SchemaBridge;

/** {@code blockdev-add}: builds a node (and its inline children) from BlockdevOptions. */
public final class BlockdevAdd extends JsonArgsCommand {
    private final BlockService block;

    public BlockdevAdd(BlockService block) {
        super("blockdev-add", SchemaBridge.struct(OptionSchemas.BLOCKDEV));
        this.block = block;
    }

    @Override
    protected void run(ObjectNode args, QmpContext ctx) {
        block.addNode(args);
    }
}
