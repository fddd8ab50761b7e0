package qmpd.qmp.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qmpd.config.error.QmpException;
import qmpd.config.json.Json;
import qmpd.config.schema.IothreadProperties;
import qmpd.config.schema.MainLoopProperties;
import qmpd.qmp.qom.QomObjects;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/**
 * {@code object-add}: QAPI flat union {@code ObjectOptions} on {@code qom-type}; we create
 * {@code iothread} and {@code main-loop} objects.
 */
public final class ObjectAdd extends JsonArgsCommand {
    /** The qom-type values we create. */
    public static final List<String> TYPES = List.of("iothread", "main-loop");

    private final QomObjects objects;

    public ObjectAdd(QomObjects objects) {
        super("object-add", schema());
        this.objects = objects;
    }

    private static QapiType.Struct schema() {
        Map<String, QapiType.Struct> variants = new LinkedHashMap<>();
        variants.put("iothread", RecordSchema.of(IothreadProperties.class));
        variants.put("main-loop", RecordSchema.of(MainLoopProperties.class));
        return new QapiType.Struct("ObjectOptions", List.of(
                new QapiType.Member("qom-type", new QapiType.Enum("ObjectType", TYPES), false),
                new QapiType.Member("id", QapiType.STR, false)), "qom-type", variants);
    }

    @Override
    protected void run(ObjectNode args, QmpContext ctx) {
        ObjectNode props = args.deepCopy();
        String type = props.remove("qom-type").textValue();
        String id = props.remove("id").textValue();
        try {
            if (type.equals("iothread")) {
                objects.addIothread(id, Json.mapper().treeToValue(props, IothreadProperties.class));
            } else {
                objects.addMainLoop(id, Json.mapper().treeToValue(props, MainLoopProperties.class));
            }
        } catch (JsonProcessingException e) {
            throw new QmpException.GenericError(e.getOriginalMessage());
        }
    }
}
