package qmpd.qmp.command;

import com.fasterxml.jackson.databind.JsonNode;
import qmpd.qmp.qom.QomObjects;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/** {@code qom-get}: one property value. */
public final class QomGet extends QmpCommand<QomGet.Args, JsonNode> {

    public record Args(String path, String property) {
    }

    private final QomObjects objects;

    public QomGet(QomObjects objects) {
        super("qom-get", Args.class, RecordSchema.of(Args.class), QapiType.ANY);
        this.objects = objects;
    }

    @Override
    protected JsonNode execute(Args args, QmpContext ctx) {
        return objects.get(args.path(), args.property());
    }
}
