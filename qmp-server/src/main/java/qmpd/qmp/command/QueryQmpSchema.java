package qmpd.qmp.command;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/** {@code query-qmp-schema}: QAPI introspection of every registered command and event. */
public final class QueryQmpSchema extends QmpCommand<QmpCommand.NoArgs, JsonNode> {

    /** QAPI {@code SchemaMetaType}. */
    public enum SchemaMetaType { BUILTIN, ENUM, ARRAY, OBJECT, ALTERNATE, COMMAND, EVENT }

    /** The common members of QAPI {@code SchemaInfo} (its variants are left out of our own schema). */
    public record SchemaInfo(String name, SchemaMetaType metaType, @OptionalMember List<String> features) {
    }

    public QueryQmpSchema() {
        super("query-qmp-schema", NoArgs.class, RecordSchema.of(NoArgs.class),
                new QapiType.Array(RecordSchema.of(SchemaInfo.class)));
    }

    @Override
    protected JsonNode execute(NoArgs args, QmpContext ctx) {
        return ctx.registry().introspect();
    }
}
