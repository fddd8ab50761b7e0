package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;
import java.util.function.Consumer;
import qmpd.qmp.server.QmpReply;

/**
 * IOThreads as a REST resource, mapped onto the QMP commands (so the same checks apply):
 * <pre>
 *   GET    /api/v1/iothreads        query-iothreads                              200 [IOThreadInfo]
 *   GET    /api/v1/iothreads/ID     query-iothreads, that entry                  200 | 404
 *   POST   /api/v1/iothreads        object-add qom-type=iothread + body          201 | 409 if ID exists
 *   DELETE /api/v1/iothreads/ID     object-del                                   204 | 404 if absent
 * </pre>
 * The existence check and the change are two main-loop tasks; a concurrent QMP client can slip in
 * between, and then the command's own error (400) is returned.
 */
final class IothreadRoutes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final QmpRoutes qmp;

    IothreadRoutes(QmpRoutes qmp) {
        this.qmp = qmp;
    }

    /** {@code rest} is the path after {@code /api/v1/iothreads}: "", "/" or "/ID". */
    void handle(Exchange ex, HttpMethod m, String rest) {
        String id = rest.length() > 1 ? rest.substring(1) : null;
        if (id == null && m.equals(HttpMethod.GET)) {
            execute(ex, "query-iothreads", null, list -> ex.sendJson(200, list));
        } else if (id == null && m.equals(HttpMethod.POST)) {
            create(ex);
        } else if (id == null) {
            HttpGateway.notAllowed(ex, m, "GET, POST");
        } else if (m.equals(HttpMethod.GET)) {
            find(ex, id, found -> ex.sendJson(200, found));
        } else if (m.equals(HttpMethod.DELETE)) {
            find(ex, id, found -> execute(ex, "object-del", NODES.objectNode().put("id", id),
                    r -> ex.response().setStatusCode(204).end()));
        } else {
            HttpGateway.notAllowed(ex, m, "GET, DELETE");
        }
    }

    private void create(Exchange ex) {
        ex.readJson(body -> {
            if (body == null || !body.isObject() || !body.path("id").isTextual()) {
                ex.sendError(400, "GenericError", "Body must be an object with a string member 'id'");
                return;
            }
            String id = body.get("id").textValue();
            execute(ex, "query-iothreads", null, list -> {
                if (entry(list, id) != null) {
                    ex.sendError(409, "GenericError", "IOThread '" + id + "' already exists");
                    return;
                }
                ObjectNode args = ((ObjectNode) body.deepCopy()).put("qom-type", "iothread");
                execute(ex, "object-add", args, r -> execute(ex, "query-iothreads", null, after -> {
                    ex.response().putHeader("Location", "/api/v1/iothreads/" + id);
                    JsonNode created = entry(after, id);
                    ex.sendJson(201, created != null ? created : NODES.objectNode().put("id", id));
                }));
            });
        });
    }

    /** Looks {@code id} up; 404 if absent, else hands its query-iothreads entry on. */
    private void find(Exchange ex, String id, Consumer<JsonNode> then) {
        execute(ex, "query-iothreads", null, list -> {
            JsonNode e = entry(list, id);
            if (e == null) {
                ex.sendError(404, "DeviceNotFound", "IOThread '" + id + "' not found");
            } else {
                then.accept(e);
            }
        });
    }

    private static JsonNode entry(JsonNode list, String id) {
        for (JsonNode e : list) {
            if (id.equals(e.path("id").asText(null))) {
                return e;
            }
        }
        return null;
    }

    /** Runs one command; its return value goes to {@code then}, an error straight to the client. */
    private void execute(Exchange ex, String command, ObjectNode args, Consumer<JsonNode> then) {
        ObjectNode request = NODES.objectNode().put("execute", command);
        if (args != null) {
            request.set("arguments", args);
        }
        qmp.run(ex, request, (QmpReply reply) -> {
            if (reply.outcome().equals(QmpReply.OK)) {
                then.accept(reply.response().get("return"));
            } else {
                ex.sendJson(HttpErrors.status(reply.outcome()), reply.response());
            }
        });
    }
}
