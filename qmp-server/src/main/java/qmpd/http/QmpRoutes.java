package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import qmpd.qmp.server.QmpReply;
import qmpd.qmp.server.QmpServer;

/**
 * The two ways to run a command over HTTP, both through {@link QmpServer#execute} (the monitors'
 * dispatcher, main loop and GlobalLock included):
 * <ul>
 *   <li>{@code POST /api/v1/qmp}: the body is a QMP request object, the answer the QMP response
 *       object ({@code return} or {@code error}, and {@code id} if given);</li>
 *   <li>{@code POST /api/v1/commands/<name>}: the body is the arguments object (empty for none),
 *       the answer the bare return value, or an error object.</li>
 * </ul>
 * The status comes from the outcome ({@link HttpErrors#status}). Handlers never block: the reply is
 * sent from the stage's completion.
 */
final class QmpRoutes {
    private final QmpServer qmp;

    QmpRoutes(QmpServer qmp) {
        this.qmp = qmp;
    }

    void request(Exchange ex) {
        ex.readJson(body -> {
            if (body == null) {
                ex.sendError(400, "GenericError", "Request body must be a QMP command object");
                return;
            }
            run(ex, body, reply -> ex.sendJson(HttpErrors.status(reply.outcome()), reply.response()));
        });
    }

    void command(Exchange ex, String name) {
        ex.readJson(args -> {
            ObjectNode request = JsonNodeFactory.instance.objectNode().put("execute", name);
            if (args != null) {
                request.set("arguments", args);   // a non-object is refused by the dispatcher's shape check
            }
            run(ex, request, reply -> {
                JsonNode rsp = reply.response();
                ex.sendJson(HttpErrors.status(reply.outcome()), rsp.has("return") ? rsp.get("return") : rsp);
            });
        });
    }

    /**
     * Runs {@code command} with {@code args} (null: none); the return value goes to {@code then},
     * an error to {@code failed}, both on the gateway's loop.
     */
    void call(Exchange ex, String command, ObjectNode args, Consumer<JsonNode> then, Consumer<QmpReply> failed) {
        ObjectNode request = JsonNodeFactory.instance.objectNode().put("execute", command);
        if (args != null) {
            request.set("arguments", args);
        }
        run(ex, request, reply -> {
            if (reply.outcome().equals(QmpReply.OK)) {
                then.accept(reply.response().get("return"));
            } else {
                failed.accept(reply);
            }
        });
    }

    /** As {@link #call(Exchange, String, ObjectNode, Consumer, Consumer)}; an error goes to the client. */
    void call(Exchange ex, String command, ObjectNode args, Consumer<JsonNode> then) {
        call(ex, command, args, then, reply -> sendReplyError(ex, reply));
    }

    /** A failed command's QMP error object, with the status of its class. */
    static void sendReplyError(Exchange ex, QmpReply reply) {
        ex.sendJson(HttpErrors.status(reply.outcome()), reply.response());
    }

    QmpServer server() {
        return qmp;
    }

    /**
     * Executes and hands the reply to {@code send} on the gateway's loop (the stage completes on the
     * main loop, which must not format HTTP responses); fires the shutdown hook once a {@code quit}
     * reply is out.
     */
    void run(Exchange ex, JsonNode request, Consumer<QmpReply> send) {
        qmp.execute(request).thenAccept(reply -> ex.onLoop(() -> {
            if (reply.shutdownRequested()) {
                ex.response().endHandler(v -> qmp.fireShutdown());
            }
            send.accept(reply);
        }));
    }
}
