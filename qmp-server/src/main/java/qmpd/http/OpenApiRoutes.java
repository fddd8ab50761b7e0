package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The OpenAPI description of the gateway's own routes: health checks, metrics, the QMP and event
 * routes, the WebSocket, and the IOThread, node and export resources. Resource bodies refer to the
 * introspected types of the commands behind them (blockdev-add's arguments are POST
 * /api/v1/nodes' body), looked up by command name, so they follow the commands too.
 */
final class OpenApiRoutes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private OpenApiRoutes() {
    }

    /** @param byName every SchemaInfo entry by (masked) name, commands included */
    static void add(ObjectNode paths, ObjectNode schemas, Map<String, JsonNode> byName) {
        Types t = new Types(byName);
        schemas.set("IothreadPatch", iothreadPatch());
        schemas.set("IothreadCreate", iothreadCreate());
        schemas.set("QmpRequest", NODES.objectNode().put("type", "object")
                .put("description", "a QMP command object: execute, optional arguments and id")
                .<ObjectNode>set("required", NODES.arrayNode().add("execute")).set("properties", NODES.objectNode()
                        .<ObjectNode>set("execute", NODES.objectNode().put("type", "string"))
                        .<ObjectNode>set("arguments", NODES.objectNode().put("type", "object"))
                        .set("id", NODES.objectNode())));
        schemas.set("QmpResponse", NODES.objectNode().put("type", "object")
                .put("description", "a QMP response: return (or error), and the request's id"));

        ObjectNode health = json("the process serves HTTP", NODES.objectNode().put("type", "object"));
        paths.putObject("/healthz").set("get", op("healthz", "liveness", "health", false)
                .set("responses", NODES.objectNode().set("200", health)));
        paths.putObject("/readyz").set("get", op("readyz", "readiness: 200 once start-up options are applied", "health", false)
                .set("responses", NODES.objectNode().<ObjectNode>set("200", health)
                        .set("503", NODES.objectNode().put("description", "still starting"))));
        paths.putObject("/metrics").set("get", withErrors(
                op("metrics", "Prometheus text 0.0.4, or OpenMetrics 1.0 on request", "metrics", true),
                "200", content("text/plain", "the scrape", NODES.objectNode().put("type", "string"))));
        paths.putObject("/api/v1/qmp").set("post", withErrors(op("qmp", "run one QMP command object", "qmp", true)
                .set("requestBody", body(ref("QmpRequest"))), "200", json("the QMP response object", ref("QmpResponse"))));
        paths.putObject("/api/v1/events").set("get", withErrors(op("events", "QMP events as Server-Sent Events", "qmp", true),
                "200", content("text/event-stream", "one data: line per event", NODES.objectNode().put("type", "string"))));
        paths.putObject("/api/v1/openapi.json").set("get", withErrors(op("openapi", "this document", "qmp", true),
                "200", json("the OpenAPI document", NODES.objectNode().put("type", "object"))));
        paths.putObject("/api/v1/qmp-ws").set("get", withErrors(op("qmpWebSocket",
                "a QMP session over a WebSocket: one JSON message per text frame, greeting first", "qmp", true),
                "101", NODES.objectNode().put("description", "switching to the WebSocket protocol")));

        // A resource is described when the commands behind it are registered (a build without the
        // block layer has no node or export routes that could succeed).
        if (t.has("query-iothreads", "object-add")) {
            iothreads(paths, t);
        }
        if (t.has("query-named-block-nodes", "blockdev-add", "blockdev-del", "query-blockstats")) {
            nodes(paths, t);
        }
        if (t.has("query-block-exports", "block-export-add", "block-export-del")) {
            exports(paths, t);
        }
    }

    private static void iothreads(ObjectNode paths, Types t) {
        resource(paths, "iothreads", "id", "IOThread", t.ret("query-iothreads"), t.element("query-iothreads"),
                ref("IothreadCreate"));
        ((ObjectNode) paths.get("/api/v1/iothreads/{id}")).set("patch", withErrors(op("patchIothread",
                "change poll-max-ns, poll-grow, poll-shrink, aio-max-batch (one qom-set each)", "iothreads", true)
                .<ObjectNode>set("parameters", NODES.arrayNode().add(pathParam("id")))
                .set("requestBody", body(ref("IothreadPatch"))), "200", json("the updated entry", t.element("query-iothreads"))));
    }

    private static void nodes(ObjectNode paths, Types t) {
        resource(paths, "nodes", "name", "block node", t.ret("query-named-block-nodes"),
                t.element("query-named-block-nodes"), t.args("blockdev-add"));
        paths.putObject("/api/v1/nodes/{name}/stats").set("get", withErrors(op("nodeStats",
                "the node's query-blockstats entry (query-nodes=true)", "nodes", true)
                .set("parameters", NODES.arrayNode().add(pathParam("name"))),
                "200", json("the node's statistics", t.element("query-blockstats"))));
    }

    private static void exports(ObjectNode paths, Types t) {
        resource(paths, "exports", "id", "export", t.ret("query-block-exports"), t.element("query-block-exports"),
                t.args("block-export-add"));
        ObjectNode del = (ObjectNode) paths.get("/api/v1/exports/{id}").get("delete");
        ((ArrayNode) del.get("parameters")).addObject().put("name", "mode").put("in", "query").put("required", false)
                .put("description", "safe (default): refuse an export with clients; hard: drop them")
                .putObject("schema").put("type", "string").putArray("enum").add("safe").add("hard");
        ((ObjectNode) del.get("responses")).set("202", json("still shutting down (clients being dropped)",
                t.element("query-block-exports")));
    }

    /** GET and POST on the collection; GET and DELETE on an entry. */
    private static void resource(ObjectNode paths, String name, String key, String what, ObjectNode list,
            ObjectNode entry, ObjectNode createBody) {
        String tag = name;
        String single = Character.toUpperCase(name.charAt(0)) + name.substring(1, name.length() - 1);
        ObjectNode coll = paths.putObject("/api/v1/" + name);
        coll.set("get", withErrors(op("list" + capitalise(name), "every " + what, tag, true), "200", json("the list", list)));
        ObjectNode created = json("created; Location names it", entry);
        created.putObject("headers").putObject("Location").put("description", "the new entry's path")
                .putObject("schema").put("type", "string");
        coll.set("post", withErrors(op("create" + single, "create a " + what + " (409 if the name is taken)", tag, true)
                .set("requestBody", body(createBody)), "201", created));
        ObjectNode item = paths.putObject("/api/v1/" + name + "/{" + key + "}");
        item.set("get", withErrors(op("get" + single, "one " + what, tag, true)
                .set("parameters", NODES.arrayNode().add(pathParam(key))), "200", json("the entry", entry)));
        item.set("delete", withErrors(op("delete" + single, "delete a " + what + " (409 while in use)", tag, true)
                .set("parameters", NODES.arrayNode().add(pathParam(key))),
                "204", NODES.objectNode().put("description", "deleted")));
    }

    private static String capitalise(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static ObjectNode op(String id, String summary, String tag, boolean auth) {
        ObjectNode op = NODES.objectNode().put("operationId", id).put("summary", summary);
        op.putArray("tags").add(tag);
        if (!auth) {
            op.putArray("security");   // open even with a token file
        }
        return op;
    }

    /** Adds the success response and the error responses every authenticated route may give. */
    private static ObjectNode withErrors(ObjectNode op, String status, ObjectNode success) {
        ObjectNode r = op.putObject("responses");
        r.set(status, success);
        r.set("default", error());
        return op;
    }

    static ObjectNode error() {
        return json("an error of the QMP shape; 400 bad request, 401 token missing or wrong, 404 no such "
                + "command or object, 405 wrong method, 409 conflict (exists, in use), 413 body too large, "
                + "500 a command failed unexpectedly", NODES.objectNode().put("$ref", OpenApi.REF + "Error"));
    }

    static ObjectNode json(String description, ObjectNode schema) {
        return content("application/json", description, schema);
    }

    private static ObjectNode content(String type, String description, ObjectNode schema) {
        ObjectNode r = NODES.objectNode().put("description", description);
        r.putObject("content").putObject(type).set("schema", schema);
        return r;
    }

    private static ObjectNode body(ObjectNode schema) {
        ObjectNode b = NODES.objectNode().put("required", true);
        b.putObject("content").putObject("application/json").set("schema", schema);
        return b;
    }

    private static ObjectNode pathParam(String name) {
        ObjectNode p = NODES.objectNode().put("name", name).put("in", "path").put("required", true);
        p.putObject("schema").put("type", "string");
        return p;
    }

    private static ObjectNode ref(String component) {
        return NODES.objectNode().put("$ref", OpenApi.REF + component);
    }

    private static ObjectNode iothreadPatch() {
        ObjectNode s = NODES.objectNode().put("type", "object").put("minProperties", 1).put("additionalProperties", false);
        ObjectNode props = s.putObject("properties");
        for (String p : IothreadRoutes.TUNABLE.stream().sorted().toList()) {
            props.putObject(p).put("type", "integer").put("format", "int64").put("minimum", 0);
        }
        return s;
    }

    private static ObjectNode iothreadCreate() {
        ObjectNode s = iothreadPatch().put("description", "object-add's iothread members, without qom-type");
        s.remove("minProperties");
        s.set("required", NODES.arrayNode().add("id"));
        ObjectNode props = (ObjectNode) s.get("properties");
        props.putObject("id").put("type", "string");
        props.putObject("thread-pool-min").put("type", "integer").put("format", "int64").put("minimum", 0);
        props.putObject("thread-pool-max").put("type", "integer").put("format", "int64").put("minimum", 0);
        return s;
    }

    /** Looks up the introspected types of commands. */
    private record Types(Map<String, JsonNode> byName) {
        boolean has(String... commands) {
            for (String c : commands) {
                if (!byName.containsKey(c) || !byName.get(c).path("meta-type").asText().equals("command")) {
                    return false;
                }
            }
            return true;
        }

        ObjectNode args(String command) {
            return OpenApi.ref(info(command).get("arg-type").asText());
        }

        ObjectNode ret(String command) {
            return OpenApi.ref(info(command).get("ret-type").asText());
        }

        /** The element type of a command that returns an array. */
        ObjectNode element(String command) {
            JsonNode array = byName.get(info(command).get("ret-type").asText());
            return array != null && array.has("element-type") ? OpenApi.ref(array.get("element-type").asText())
                    : NODES.objectNode().put("type", "object");
        }

        private JsonNode info(String command) {
            JsonNode i = byName.get(command);
            if (i == null) {
                throw new IllegalStateException("command " + command + " is not registered");
            }
            return i;
        }
    }
}
