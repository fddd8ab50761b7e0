package qmpd.qmp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.config.error.QmpException;
import qmpd.qmp.InBandExecutor;
import qmpd.qmp.json.QDictOrder;
import qmpd.qmp.command.CommandObserver;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.schema.ArgumentValidator;

/**
 * Turns one request into one response, in QEMU's order of checks (qapi/qmp-dispatch.c
 * {@code qmp_dispatch}, monitor/qmp.c {@code monitor_qmp_dispatch}): request shape, command
 * lookup, OOB permission, argument validation, execution. Shape and validation run on the caller's
 * thread (the monitor I/O thread); an in-band command then runs on the main loop, an OOB one right
 * here.
 */
final class QmpDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(QmpDispatcher.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String NEGOTIATE = "Expecting capabilities negotiation with 'qmp_capabilities'";

    private final CommandRegistry registry;
    private final InBandExecutor mainLoop;
    private final QmpStats stats;
    /** Set once by the owner before clients are served; read on the main loop. */
    private volatile CommandObserver observer = CommandObserver.NONE;

    QmpDispatcher(CommandRegistry registry, InBandExecutor mainLoop, QmpStats stats) {
        this.registry = registry;
        this.mainLoop = new InBandQueue(mainLoop);   // one command at a time, across monitors
        this.stats = stats;
    }

    void setObserver(CommandObserver observer) {
        this.observer = observer;
    }

    /** QEMU's {@code qmp_is_oob}: {@code exec-oob} without {@code execute}. */
    static boolean isOob(JsonNode request) {
        return request.isObject() && request.has("exec-oob") && !request.has("execute");
    }

    /** The error reply for input that never became a request (parse errors, limits). */
    static ObjectNode errorResponse(JsonNode id, String errorClass, String desc) {
        ObjectNode rsp = NODES.objectNode();
        if (id != null) {
            rsp.set("id", id);
        }
        rsp.putObject("error").put("class", errorClass).put("desc", desc);
        return rsp;
    }

    /**
     * Dispatches {@code request}; the stage completes with the response, never exceptionally.
     *
     * @param oobEnabled whether the session negotiated {@code oob} (else {@code exec-oob} is unexpected)
     */
    CompletionStage<ObjectNode> dispatch(JsonNode request, QmpContext ctx, boolean oobEnabled) {
        return execute(request, ctx, oobEnabled).thenApply(QmpReply::response);
    }

    /** As {@link #dispatch}, with the outcome; counts the request in {@link QmpStats}. */
    CompletionStage<QmpReply> execute(JsonNode request, QmpContext ctx, boolean oobEnabled) {
        long start = System.nanoTime();
        String label = metricsName(request);
        CompletionStage<QmpReply> reply = run(request, ctx, oobEnabled);
        return reply.whenComplete((r, e) -> stats.commandDone(label, r != null ? r.outcome() : QmpReply.INTERNAL,
                System.nanoTime() - start));
    }

    /** The command label for metrics: a registered name, else "unknown" (clients cannot add series). */
    private String metricsName(JsonNode request) {
        JsonNode name = request.isObject() ? request.get(request.has("execute") ? "execute" : "exec-oob") : null;
        return name != null && name.isTextual() && registry.find(name.textValue()) != null
                ? name.textValue() : "unknown";
    }

    private CompletionStage<QmpReply> run(JsonNode request, QmpContext ctx, boolean oobEnabled) {
        if (!request.isObject()) {
            return done(new QmpReply(errorResponse(null, "GenericError", "QMP input must be a JSON object"),
                    "GenericError", false));
        }
        JsonNode id = request.get("id");
        try {
            String shapeError = checkShape((ObjectNode) request, oobEnabled);
            if (shapeError != null) {
                throw new QmpException.GenericError(shapeError);
            }
            boolean oob = !request.has("execute");
            String name = request.get(oob ? "exec-oob" : "execute").textValue();
            QmpCommand<?, ?> cmd = ctx.session().negotiated() || name.equals("qmp_capabilities")
                    ? registry.find(name) : null;
            if (cmd == null) {
                throw new QmpException.CommandNotFound("The command " + name + " has not been found");
            }
            if (oob && !cmd.allowOob()) {
                throw new QmpException.GenericError("The command " + name + " does not support OOB");
            }
            ObjectNode args = request.has("arguments") ? (ObjectNode) request.get("arguments") : NODES.objectNode();
            ArgumentValidator.validate(cmd.argsSchema(), args);
            CompletionStage<JsonNode> result = oob ? invoke(cmd, args, ctx) : inMainLoop(cmd, args, ctx);
            return result.handle((ret, err) -> err == null
                    ? new QmpReply(success(ret, id), QmpReply.OK, false) : failure(err, id, name, ctx));
        } catch (RuntimeException e) {
            return done(failure(e, id, null, ctx));
        }
    }

    /** The checks of {@code qmp_dispatch_check_obj}, in QEMU's member order; null when well-formed. */
    private static String checkShape(ObjectNode dict, boolean oobEnabled) {
        String execKey = null;
        for (Map.Entry<String, JsonNode> e : QDictOrder.entries(dict)) {
            String key = e.getKey();
            if (key.equals("execute") || (key.equals("exec-oob") && oobEnabled)) {
                if (!e.getValue().isTextual()) {
                    return "QMP input member '" + key + "' must be a string";
                }
                if (execKey != null) {
                    return "QMP input member '" + key + "' clashes with '" + execKey + "'";
                }
                execKey = key;
            } else if (key.equals("arguments")) {
                if (!e.getValue().isObject()) {
                    return "QMP input member 'arguments' must be an object";
                }
            } else if (!key.equals("id")) {
                return "QMP input member '" + key + "' is unexpected";
            }
        }
        return execKey == null ? "QMP input lacks member 'execute'" : null;
    }

    private static CompletionStage<JsonNode> invoke(QmpCommand<?, ?> cmd, ObjectNode args, QmpContext ctx) {
        try {
            return cmd.invoke(args, ctx);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            // Errors too (a failed assertion, a linkage problem): the client always gets an answer.
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletionStage<JsonNode> inMainLoop(QmpCommand<?, ?> cmd, ObjectNode args, QmpContext ctx) {
        CompletableFuture<JsonNode> result = new CompletableFuture<>();
        mainLoop.runOnce("qmp:" + cmd.name(), () -> invoke(cmd, args, ctx).whenComplete((r, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
                return;
            }
            CompletionStage<Void> recorded;
            try {
                recorded = observer.succeeded(cmd.name(), args);
            } catch (RuntimeException oe) {
                recorded = CompletableFuture.failedFuture(oe);
            }
            if (recorded == null) {
                result.complete(r);
                return;
            }
            recorded.whenComplete((v, re) -> {
                if (re == null) {
                    result.complete(r);
                } else {
                    Throwable c = re instanceof CompletionException && re.getCause() != null ? re.getCause() : re;
                    result.completeExceptionally(new QmpException.GenericError(
                            "The change was made but could not be recorded: " + c.getMessage()));
                }
            });
        }));
        return result;
    }

    private static ObjectNode success(JsonNode ret, JsonNode id) {
        ObjectNode rsp = NODES.objectNode();
        rsp.set("return", ret);
        if (id != null) {
            rsp.set("id", id);
        }
        return rsp;
    }

    private static QmpReply failure(Throwable err, JsonNode id, String command, QmpContext ctx) {
        if (err instanceof CompletionException && err.getCause() != null) {
            err = err.getCause();
        }
        String cls;
        String desc;
        String outcome;
        if (err instanceof QmpException q) {
            cls = q.errorClass();
            desc = q.desc();
            outcome = cls;
        } else {
            outcome = QmpReply.INTERNAL;
            LOG.error("event=command-failed command={}", command, err);
            cls = "GenericError";
            desc = err.getMessage() != null ? err.getMessage() : err.getClass().getSimpleName();
        }
        if (cls.equals("CommandNotFound") && !ctx.session().negotiated()) {
            desc = NEGOTIATE;
        }
        return new QmpReply(errorResponse(id, cls, desc), outcome, false);
    }

    private static CompletionStage<QmpReply> done(QmpReply rsp) {
        return CompletableFuture.completedFuture(rsp);
    }
}
