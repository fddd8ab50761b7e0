package qmpd.qmp.block;

import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code nbd-server-stop}: closes every NBD export (clients dropped), then the listener. */
public final class NbdServerStop extends QmpCommand<QmpCommand.NoArgs, QmpCommand.Empty> {
    private final BlockService block;

    public NbdServerStop(BlockService block) {
        super("nbd-server-stop", NoArgs.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(NoArgs args, QmpContext ctx) {
        block.nbdServerStop();
        return Empty.INSTANCE;
    }
}
