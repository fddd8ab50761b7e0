package qmpd.qmp.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Type;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import qmpd.config.error.QmpException;
import qmpd.config.json.Json;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/**
 * One QMP command, named after its wire name ({@code QueryVersion} for {@code query-version}), with
 * a typed argument record {@code A} and result {@code R}. The framework validates the arguments
 * against {@link #argsSchema()} with QEMU's texts before binding them with the shared ObjectMapper,
 * so {@link #execute} only ever sees well-formed arguments.
 *
 * <p>Threading: an in-band command runs on the main loop with the GlobalLock held, one at a time; a
 * command that {@link #allowOob() allows OOB} and is sent with {@code exec-oob} runs on the
 * monitor's I/O thread and must not block.
 *
 * <p>Errors: throw {@link QmpException} (its class goes on the wire); anything else becomes a
 * GenericError and is logged.
 *
 * @param <A> the argument record ({@link NoArgs} when there are none)
 * @param <R> the result: a record, a list, a JsonNode, or {@link Empty} for {@code {}}
 */
public abstract class QmpCommand<A, R> {
    private final String name;
    private final Class<A> argsClass;
    private final QapiType.Struct argsSchema;
    private final QapiType returns;

    /** Arguments and result described by their Java types. */
    protected QmpCommand(String name, Class<A> argsClass, Type returns) {
        this(name, argsClass, RecordSchema.of(argsClass), RecordSchema.typeOf(returns));
    }

    /** For commands whose schema cannot be derived from records (flat unions, {@code any}). */
    protected QmpCommand(String name, Class<A> argsClass, QapiType.Struct argsSchema, QapiType returns) {
        this.name = name;
        this.argsClass = argsClass;
        this.argsSchema = argsSchema;
        this.returns = returns;
    }

    /** The wire name. */
    public final String name() {
        return name;
    }

    /** What the command accepts; validated before {@link #bind}. */
    public final QapiType.Struct argsSchema() {
        return argsSchema;
    }

    /** What the command returns, for introspection. */
    public final QapiType returns() {
        return returns;
    }

    /** Whether {@code exec-oob} may run this command (QAPI {@code allow-oob}). */
    public boolean allowOob() {
        return false;
    }

    /** Turns validated arguments into the record; override for hand-made schemas. */
    protected A bind(ObjectNode args) {
        try {
            return Json.mapper().treeToValue(args, argsClass);
        } catch (JsonProcessingException e) {
            throw new QmpException.GenericError(e.getOriginalMessage());
        }
    }

    /** Binds and runs; the framework's single entry point. */
    public final CompletionStage<JsonNode> invoke(ObjectNode args, QmpContext ctx) {
        A bound = bind(args);
        // A command without a result answers {} (QEMU's qmp_dispatch supplies it too).
        return executeAsync(bound, ctx).thenApply(r -> r == null ? Json.mapper().createObjectNode()
                : r instanceof JsonNode n ? n : Json.mapper().valueToTree(r));
    }

    /** Runs the command and completes with its result; override for commands that finish later. */
    public CompletionStage<R> executeAsync(A args, QmpContext ctx) {
        return CompletableFuture.completedFuture(execute(args, ctx));
    }

    /** Runs the command synchronously. */
    protected abstract R execute(A args, QmpContext ctx);

    /** The argument record of commands without arguments. */
    public record NoArgs() {
    }

    /** The {@code {}} result of commands without a return value. */
    public record Empty() {
        public static final Empty INSTANCE = new Empty();
    }
}
