package qmpd.qmp.command;

import qmpd.qmp.qom.QomObjects;

/** {@code object-del}: deletes an object; the main loop and IOThreads in use are refused. */
public final class ObjectDel extends QmpCommand<ObjectDel.Args, QmpCommand.Empty> {

    public record Args(String id) {
    }

    private final QomObjects objects;

    public ObjectDel(QomObjects objects) {
        super("object-del", Args.class, Empty.class);
        this.objects = objects;
    }

    @Override
    protected Empty execute(Args args, QmpContext ctx) {
        objects.delete(args.id());
        return Empty.INSTANCE;
    }
}
