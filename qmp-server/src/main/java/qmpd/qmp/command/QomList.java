package qmpd.qmp.command;

import java.util.List;
import qmpd.config.schema.OptionalMember;
import qmpd.qmp.qom.QomObjects;

/** {@code qom-list}: the properties of a QOM path. */
public final class QomList extends QmpCommand<QomList.Args, List<QomList.ObjectPropertyInfo>> {

    public record Args(String path) {
    }

    /** QAPI {@code ObjectPropertyInfo}. */
    public record ObjectPropertyInfo(String name, String type, @OptionalMember String description,
                                     @OptionalMember com.fasterxml.jackson.databind.JsonNode defaultValue) {
    }

    private final QomObjects objects;

    public QomList(QomObjects objects) {
        super("qom-list", Args.class,
                new com.fasterxml.jackson.core.type.TypeReference<List<ObjectPropertyInfo>>() { }.getType());
        this.objects = objects;
    }

    @Override
    protected List<ObjectPropertyInfo> execute(Args args, QmpContext ctx) {
        return objects.list(args.path()).stream()
                .map(p -> new ObjectPropertyInfo(p.name(), p.type(), null, null)).toList();
    }
}
