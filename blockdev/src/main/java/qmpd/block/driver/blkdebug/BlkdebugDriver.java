package qmpd.block.driver.blkdebug;

import qmpd.block.BlockDriver;
import qmpd.block.BlockDriverState;
import qmpd.block.BlockNode;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;

/**
 * QEMU's {@code blkdebug} filter (block/blkdebug.c) for fault injection: a node that forwards every
 * request to its {@code image} child, except those its {@code inject-error} rules select, which
 * fail with the rule's errno or (qmpd's {@code x-delay-ns}) wait first. Rules follow QEMU's model:
 * a debug event emitted by a parent (raw's {@code read_aio}, ...) activates the rules of that
 * event; active rules then match requests by type and sector. See {@link BlkdebugRules}.
 */
public final class BlkdebugDriver implements BlockDriver {

    @Override
    public String name() {
        return "blkdebug";
    }

    @Override
    public BlockDriverState open(BlockdevOptions options, OpenEnv env) {
        BlockdevOptions.Blkdebug o = (BlockdevOptions.Blkdebug) options;
        BlockNode image = o.imageNodeName() != null ? env.lookup(o.imageNodeName()) : env.openInline(o.imageInline());
        if (!o.readOnly() && image.readOnly()) {
            throw new QmpException.GenericError("Cannot open node '" + image.nodeName() + "' writable: it is read-only");
        }
        return new BlkdebugState(image, new BlkdebugRules(o.injectErrors(), o.setStates()));
    }
}
