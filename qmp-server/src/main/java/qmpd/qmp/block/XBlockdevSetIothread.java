package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import qmpd.qmp.command.JsonArgsCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.QapiType;

/** {@code x-blockdev-set-iothread}: moves a node (and what is connected to it) to an IOThread, or back with null. */
public final class XBlockdevSetIothread extends JsonArgsCommand {
    private static final QapiType.Struct SCHEMA = new QapiType.Struct("q_obj_x-blockdev-set-iothread-arg", List.of(
            new QapiType.Member("node-name", QapiType.STR, false),
            new QapiType.Member("iothread", new QapiType.Alternate("StrOrNull", List.of(QapiType.STR, QapiType.NULL)), false),
            new QapiType.Member("force", QapiType.BOOL, true)));

    private final BlockService block;

    public XBlockdevSetIothread(BlockService block) {
        super("x-blockdev-set-iothread", SCHEMA);
        this.block = block;
    }

    @Override
    protected void run(ObjectNode args, QmpContext ctx) {
        JsonNode io = args.get("iothread");
        block.setIothread(args.get("node-name").asText(), io.isNull() ? null : io.asText(),
                args.path("force").asBoolean(false));
    }
}
