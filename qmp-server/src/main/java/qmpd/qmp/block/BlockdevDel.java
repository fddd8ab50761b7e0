package qmpd.qmp.block;

import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code blockdev-del}: deletes a node added by blockdev-add that nothing uses. */
public final class BlockdevDel extends QmpCommand<BlockdevDel.Args, QmpCommand.Empty> {
    public record Args(String nodeName) {
    }

    private final BlockService block;

    public BlockdevDel(BlockService block) {
        super("blockdev-del", Args.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        block.deleteNode(args.nodeName());
        return Empty.INSTANCE;
    }
}
