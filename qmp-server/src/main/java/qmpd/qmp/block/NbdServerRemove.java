package qmpd.qmp.block;

import qmpd.config.error.QmpException;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code nbd-server-remove}: block-export-del for NBD exports. */
public final class NbdServerRemove extends QmpCommand<NbdServerRemove.Args, QmpCommand.Empty> {
    public record Args(String name, @OptionalMember String mode) {
    }

    private final BlockService block;

    public NbdServerRemove(BlockService block) {
        super("nbd-server-remove", Args.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        var e = block.findExport(args.name());
        if (e != null && !e.type().equals("nbd")) {
            throw new QmpException.GenericError("Block export '" + args.name() + "' is not an NBD export");
        }
        block.deleteExport(args.name(), BlockExportDel.hard(args.mode()));
        return Empty.INSTANCE;
    }
}
