package qmpd.qmp.command;

import com.fasterxml.jackson.databind.JsonNode;
import qmpd.qmp.qom.QomObjects;

/** {@code qom-set}: changes a property; IOThread poll and pool parameters apply at once. */
public final class QomSet extends QmpCommand<QomSet.Args, QmpCommand.Empty> {

    public record Args(String path, String property, JsonNode value) {
    }

    private final QomObjects objects;

    public QomSet(QomObjects objects) {
        super("qom-set", Args.class, Empty.class);
        this.objects = objects;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        objects.set(args.path(), args.property(), args.value());
        return Empty.INSTANCE;
    }
}
