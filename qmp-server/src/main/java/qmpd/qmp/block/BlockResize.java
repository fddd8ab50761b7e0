package qmpd.qmp.block;

import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** {@code block_resize}: drains the node and changes its size through the driver. */
public final class BlockResize extends QmpCommand<BlockResize.Args, QmpCommand.Empty> {
    public record Args(@OptionalMember String device, @OptionalMember String nodeName, long size) {
    }

    private final BlockService block;

    public BlockResize(BlockService block) {
        super("block_resize", Args.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        block.graph().resize(block.lookup(args.device(), args.nodeName()), args.size());
        return Empty.INSTANCE;
    }
}
