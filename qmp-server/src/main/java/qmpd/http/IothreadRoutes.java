package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * IOThreads as a REST resource, mapped onto the QMP commands (so the same checks apply):
 * <pre>
 *   GET    /api/v1/iothreads        query-iothreads                              200 [IOThreadInfo]
 *   GET    /api/v1/iothreads/ID     query-iothreads, that entry                  200 | 404
 *   POST   /api/v1/iothreads        object-add qom-type=iothread + body          201 | 400 | 409 if ID exists
 *   PATCH  /api/v1/iothreads/ID     qom-set per member (poll-max-ns, poll-grow,  200 updated entry | 400 | 404
 *                                   poll-shrink, aio-max-batch)
 *   DELETE /api/v1/iothreads/ID     object-del                                   204 | 404 | 409 (in use)
 * </pre>
 */
final class IothreadRoutes {
    /** What PATCH may change: the IOThread's adaptive polling and batching, live. */
    static final Set<String> TUNABLE = Set.of("poll-max-ns", "poll-grow", "poll-shrink", "aio-max-batch");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final QmpRoutes qmp;
    private final Collection iothreads;

    IothreadRoutes(QmpRoutes qmp) {
        this.qmp = qmp;
        this.iothreads = new Collection(qmp, "IOThread", "/api/v1/iothreads", "query-iothreads", null, "id");
    }

    /** {@code rest} is the path after {@code /api/v1/iothreads}: "", "/" or "/ID". */
    void handle(Exchange ex, HttpMethod m, String rest) {
        String id = rest.length() > 1 ? rest.substring(1) : null;
        if (id == null && m.equals(HttpMethod.GET)) {
            iothreads.list(ex);
        } else if (id == null && m.equals(HttpMethod.POST)) {
            create(ex);
        } else if (id == null) {
            HttpGateway.notAllowed(ex, m, "GET, POST");
        } else if (m.equals(HttpMethod.GET)) {
            iothreads.find(ex, id, found -> ex.sendJson(200, found));
        } else if (m.equals(HttpMethod.PATCH)) {
            patch(ex, id);
        } else if (m.equals(HttpMethod.DELETE)) {
            iothreads.delete(ex, id, "object-del", NODES.objectNode().put("id", id),
                    r -> ex.response().setStatusCode(204).end());
        } else {
            HttpGateway.notAllowed(ex, m, "GET, PATCH, DELETE");
        }
    }

    private void create(Exchange ex) {
        ex.readJson(body -> {
            if (body == null || !body.isObject() || !body.path("id").isTextual()) {
                ex.sendError(400, "GenericError", "Body must be an object with a string member 'id'");
                return;
            }
            ObjectNode args = ((ObjectNode) body.deepCopy()).put("qom-type", "iothread");
            iothreads.create(ex, body.get("id").textValue(), "object-add", args);
        });
    }

    /**
     * Members are checked before any is set (known names, integers, not negative, the range
     * qom-set enforces), so a PATCH is applied whole or not at all; only a concurrent object-del
     * between two qom-sets could leave it half done, and then the error says so.
     */
    private void patch(Exchange ex, String id) {
        ex.readJson(body -> {
            String problem = patchProblem(body);
            if (problem != null) {
                ex.sendError(400, "GenericError", problem);
                return;
            }
            iothreads.find(ex, id, before -> {
                List<Map.Entry<String, JsonNode>> members = new ArrayList<>(body.properties());
                set(ex, id, members.iterator());
            });
        });
    }

    private static String patchProblem(JsonNode body) {
        if (body == null || !body.isObject() || body.isEmpty()) {
            return "Body must be an object with one or more of " + String.join(", ", TUNABLE.stream().sorted().toList());
        }
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!TUNABLE.contains(e.getKey())) {
                return "Member '" + e.getKey() + "' cannot be changed; changeable: "
                        + String.join(", ", TUNABLE.stream().sorted().toList());
            }
            JsonNode v = e.getValue();
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                return "Invalid parameter type for '" + e.getKey() + "', expected: integer";
            }
            if (v.longValue() < 0) {
                return e.getKey() + " value must be in range [0, " + Long.MAX_VALUE + "]";
            }
        }
        return null;
    }

    /** One qom-set per member, in the body's order; then the entry as query-iothreads shows it. */
    private void set(Exchange ex, String id, Iterator<Map.Entry<String, JsonNode>> members) {
        if (!members.hasNext()) {
            iothreads.find(ex, id, after -> ex.sendJson(200, after));
            return;
        }
        Map.Entry<String, JsonNode> m = members.next();
        ObjectNode args = NODES.objectNode().put("path", "/objects/" + id).put("property", m.getKey());
        args.set("value", m.getValue());
        qmp.call(ex, "qom-set", args, r -> set(ex, id, members));
    }
}
