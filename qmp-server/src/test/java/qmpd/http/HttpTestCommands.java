package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.List;
import qmpd.config.error.QmpException;
import qmpd.loop.GlobalLock;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** Test-only commands for the HTTP tests: one per outcome the status mapping must cover. */
public final class HttpTestCommands {
    private HttpTestCommands() {
    }

    static List<QmpCommand<?, ?>> all() {
        return List.of(new Where(), new Emit(), new Busy(), new Crash());
    }

    /** {@code x-http-where}: the thread it ran on and whether the GlobalLock was held. */
    public static final class Where extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        Where() {
            super("x-http-where", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            return JsonNodeFactory.instance.objectNode().put("thread", Thread.currentThread().getName())
                    .put("global-lock", GlobalLock.isHeldByCurrentThread());
        }
    }

    /** {@code x-http-emit}: emits event X_HTTP_TEST with {@code {"n": n}}. */
    public static final class Emit extends QmpCommand<Emit.Args, QmpCommand.Empty> {
        public record Args(long n) {
        }

        Emit() {
            super("x-http-emit", Args.class, QmpCommand.Empty.class);
        }

        @Override
        protected QmpCommand.Empty execute(Args args, QmpContext ctx) {
            ctx.events().emit("X_HTTP_TEST", JsonNodeFactory.instance.objectNode().put("n", args.n()));
            return QmpCommand.Empty.INSTANCE;
        }
    }

    /** {@code x-http-busy}: a DeviceNotActive error (a conflict with the object's state). */
    public static final class Busy extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        Busy() {
            super("x-http-busy", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            throw new QmpException.DeviceNotActive("No active block job on device 'd0'");
        }
    }

    /** {@code x-http-crash}: a bug, not a user error. */
    public static final class Crash extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        Crash() {
            super("x-http-crash", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            throw new IllegalStateException("boom");
        }
    }
}
