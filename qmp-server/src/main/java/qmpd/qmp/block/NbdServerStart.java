package qmpd.qmp.block;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qmpd.config.cli.OptionSchemas;
import qmpd.qmp.command.JsonArgsCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.SchemaBridge;

/** {@code nbd-server-start}: listens for NBD clients; {@code addr} is a SocketAddressLegacy. */
public final class NbdServerStart extends JsonArgsCommand {
    private final BlockService block;

    public NbdServerStart(BlockService block) {
        super("nbd-server-start", schema());
        this.block = block;
    }

    private static QapiType.Struct schema() {
        // SocketAddressLegacy: a simple union, each branch wrapping its struct in 'data'.
        QapiType.Struct flat = SchemaBridge.struct(OptionSchemas.SOCKET_ADDRESS);
        Map<String, QapiType.Struct> variants = new LinkedHashMap<>();
        flat.variants().forEach((tag, s) -> variants.put(tag, new QapiType.Struct("q_obj_" + tag + "-wrapper",
                List.of(new QapiType.Member("data", s, false)))));
        QapiType.Member type = flat.members().stream().filter(m -> m.name().equals("type")).findFirst().orElseThrow();
        QapiType.Struct addr = new QapiType.Struct("SocketAddressLegacy", List.of(type), "type", variants);
        return new QapiType.Struct("q_obj_nbd-server-start-arg", List.of(
                new QapiType.Member("addr", addr, false),
                new QapiType.Member("tls-creds", QapiType.STR, true),
                new QapiType.Member("tls-authz", QapiType.STR, true),
                new QapiType.Member("max-connections", QapiType.INT, true)));
    }

    @Override
    protected void run(ObjectNode args, QmpContext ctx) {
        long max = args.path("max-connections").asLong(0);
        if (max < 0 || max > 0xffff_ffffL) {
            throw new qmpd.config.error.QmpException.GenericError(
                    "Parameter 'max-connections' expects uint32");
        }
        block.nbdServerStart(BlockService.legacySocketAddress(args.get("addr")),
                args.hasNonNull("tls-creds") ? args.get("tls-creds").asText() : null, (int) Math.min(max, Integer.MAX_VALUE));
    }
}
