package qmpd.qmp.block;

import qmpd.qmp.command.CommandRegistry;

/** Registers the block-layer, NBD server and export commands and their event. */
public final class BlockCommands {
    private BlockCommands() {
    }

    /** QAPI BLOCK_EXPORT_DELETED. */
    public record BlockExportDeleted(String id) {
    }

    public static CommandRegistry register(CommandRegistry registry, BlockService block) {
        return registry
                .register(new BlockdevAdd(block))
                .register(new BlockdevDel(block))
                .register(new QueryNamedBlockNodes(block))
                .register(new QueryBlock())
                .register(new QueryBlockstats(block))
                .register(new BlockResize(block))
                .register(new XBlockdevSetIothread(block))
                .register(new NbdServerStart(block))
                .register(new NbdServerStop(block))
                .register(new NbdServerAdd(block))
                .register(new NbdServerRemove(block))
                .register(new BlockExportAdd(block))
                .register(new BlockExportDel(block))
                .register(new QueryBlockExports(block))
                .registerEvent("BLOCK_EXPORT_DELETED", BlockExportDeleted.class);
    }
}
