package qmpd.qmp.block;

import qmpd.config.error.QmpException;
import qmpd.config.json.Json;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/**
 * {@code nbd-server-add}, the legacy form of block-export-add: the export id is its name, which
 * defaults to the device; a read-only node is exported read-only even if writable was asked.
 */
public final class NbdServerAdd extends QmpCommand<NbdServerAdd.Args, QmpCommand.Empty> {
    public record Args(String device, @OptionalMember String name, @OptionalMember String description,
                       @OptionalMember Boolean writable, @OptionalMember String bitmap) {
    }

    private final BlockService block;

    public NbdServerAdd(BlockService block) {
        super("nbd-server-add", Args.class, Empty.class);
        this.block = block;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        if (block.nbdServer() == null) {
            throw new QmpException.GenericError("NBD server not running");
        }
        if (args.bitmap() != null) {
            throw new QmpException.GenericError("Bitmap '" + args.bitmap() + "' is not found");
        }
        String name = args.name() != null ? args.name() : args.device();
        var node = block.graph().find(args.device());
        boolean writable = Boolean.TRUE.equals(args.writable()) && (node == null || !node.readOnly());
        var exp = Json.mapper().createObjectNode()
                .put("type", "nbd").put("id", name).put("node-name", args.device()).put("name", name)
                .put("writable", writable);
        if (args.description() != null) {
            exp.put("description", args.description());
        }
        block.addExport(exp);
        return Empty.INSTANCE;
    }
}
