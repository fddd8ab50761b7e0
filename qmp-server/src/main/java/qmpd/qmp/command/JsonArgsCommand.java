package qmpd.qmp.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/**
 * A command answering {@code {}} whose arguments stay the validated JSON tree: for QAPI shapes a
 * record cannot carry (flat unions, alternates with null, recursive options). Threading as every
 * in-band command: {@link #run} runs on the main loop with the GlobalLock held.
 */
public abstract class JsonArgsCommand extends QmpCommand<ObjectNode, QmpCommand.Empty> {

    protected JsonArgsCommand(String name, QapiType.Struct argsSchema) {
        super(name, ObjectNode.class, argsSchema, RecordSchema.of(Empty.class));
    }

    @Override
    protected final ObjectNode bind(ObjectNode args) {
        return args;
    }

    @Override
    protected final Empty execute(ObjectNode args, QmpContext ctx) {
        run(args, ctx);
        return Empty.INSTANCE;
    }

    /** Carries the command out; {@code args} matched {@link #argsSchema()}. */
    protected abstract void run(ObjectNode args, QmpContext ctx);
}
