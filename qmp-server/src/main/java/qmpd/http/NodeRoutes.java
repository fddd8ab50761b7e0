package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;

/**
 * Block nodes as a REST resource, mapped onto the QMP commands (so the same checks apply):
 * <pre>
 *   GET    /api/v1/nodes             query-named-block-nodes flat=true            200 [BlockDeviceInfo]
 *   GET    /api/v1/nodes/NAME        that entry                                   200 | 404
 *   POST   /api/v1/nodes             blockdev-add with the body                   201 | 400 | 409 if NAME exists
 *   DELETE /api/v1/nodes/NAME        blockdev-del                                 204 | 404 | 409 in use
 *   GET    /api/v1/nodes/NAME/stats  query-blockstats query-nodes=true, its entry 200 | 404
 * </pre>
 */
final class NodeRoutes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String STATS = "/stats";

    private final Collection nodes;
    private final Collection stats;

    NodeRoutes(QmpRoutes qmp) {
        this.nodes = new Collection(qmp, "Node", "/api/v1/nodes", "query-named-block-nodes",
                NODES.objectNode().put("flat", true), "node-name");
        this.stats = new Collection(qmp, "Node", "/api/v1/nodes", "query-blockstats",
                NODES.objectNode().put("query-nodes", true), "node-name");
    }

    /** {@code rest} is the path after {@code /api/v1/nodes}: "", "/", "/NAME" or "/NAME/stats". */
    void handle(Exchange ex, HttpMethod m, String rest) {
        String name = rest.length() > 1 ? rest.substring(1) : null;
        if (name == null) {
            if (m.equals(HttpMethod.GET)) {
                nodes.list(ex);
            } else if (m.equals(HttpMethod.POST)) {
                create(ex);
            } else {
                HttpGateway.notAllowed(ex, m, "GET, POST");
            }
        } else if (name.endsWith(STATS) && name.length() > STATS.length()) {
            String node = name.substring(0, name.length() - STATS.length());
            HttpGateway.only(ex, m, HttpMethod.GET, () -> stats.find(ex, node, s -> ex.sendJson(200, s)));
        } else if (m.equals(HttpMethod.GET)) {
            nodes.find(ex, name, found -> ex.sendJson(200, found));
        } else if (m.equals(HttpMethod.DELETE)) {
            nodes.delete(ex, name, "blockdev-del", NODES.objectNode().put("node-name", name),
                    r -> ex.response().setStatusCode(204).end());
        } else {
            HttpGateway.notAllowed(ex, m, "GET, DELETE");
        }
    }

    /** The body is blockdev-add's arguments, exactly as over QMP; node-name names the new resource. */
    private void create(Exchange ex) {
        ex.readJson(body -> {
            JsonNode name = body == null ? null : body.get("node-name");
            if (body == null || !body.isObject() || name == null || !name.isTextual()) {
                ex.sendError(400, "GenericError",
                        "Body must be the arguments of blockdev-add, with a string member 'node-name'");
                return;
            }
            nodes.create(ex, name.textValue(), "blockdev-add", (ObjectNode) body);
        });
    }
}
