package qmpd.qmp.block;

import qmpd.config.error.QmpException;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code block-export-del}: mode safe (default) refuses an export with clients; hard drops them. */
public final class BlockExportDel extends QmpCommand<BlockExportDel.Args, QmpCommand.Empty> {
    public record Args(String id, @OptionalMember String mode) {
    }

    private final BlockService block;

    public BlockExportDel(BlockService block) {
        super("block-export-del", Args.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        block.deleteExport(args.id(), hard(args.mode()));
        return Empty.INSTANCE;
    }

    /** BlockExportRemoveMode. */
    static boolean hard(String mode) {
        if (mode == null || mode.equals("safe")) {
            return false;
        }
        if (mode.equals("hard")) {
            return true;
        }
        throw new QmpException.GenericError("Parameter 'mode' does not accept value '" + mode + "'");
    }
}
