package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import qmpd.qmp.server.QmpReply;

/**
 * One REST collection backed by a QMP query (IOThreads, block nodes, exports): listing, looking an
 * entry up, and the shared shape of create and delete. Every step is a QMP command through
 * {@link QmpRoutes}, so the same checks apply as on a monitor socket.
 *
 * <p>Whether a failed create or delete is a conflict is decided after the fact: the route looks
 * the resource up again once the command has failed, and {@link HttpErrors} maps the pair. So a
 * concurrent QMP client cannot turn a duplicate into a 400 by slipping in between a check and the
 * change. Immutable; used on the gateway's loop.
 *
 * @param kind     the resource's name in messages ("IOThread", "Node", "Export")
 * @param path     the collection's path, e.g. {@code /api/v1/nodes}
 * @param query    the listing command
 * @param queryArgs its arguments, or null
 * @param key      the member that names an entry ({@code id}, {@code node-name})
 */
record Collection(QmpRoutes qmp, String kind, String path, String query, ObjectNode queryArgs, String key) {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** GET of the collection: the query's return value. */
    void list(Exchange ex) {
        qmp.call(ex, query, copy(queryArgs), list -> ex.sendJson(200, list));
    }

    /** Looks {@code name} up; 404 if absent, else hands its entry on. */
    void find(Exchange ex, String name, Consumer<JsonNode> then) {
        qmp.call(ex, query, copy(queryArgs), list -> {
            JsonNode e = entry(list, name);
            if (e == null) {
                notFound(ex, name);
            } else {
                then.accept(e);
            }
        });
    }

    /** Its entry, or null when absent; errors of the query go to the client. */
    void lookup(Exchange ex, String name, Consumer<JsonNode> then) {
        qmp.call(ex, query, copy(queryArgs), list -> then.accept(entry(list, name)));
    }

    void notFound(Exchange ex, String name) {
        ex.sendError(404, "DeviceNotFound", kind + " '" + name + "' not found");
    }

    /**
     * POST: runs {@code command}; success is 201 with {@code Location} and the new entry. On failure
     * the entry is looked up: there now means the name was taken (409), else the command's status.
     */
    void create(Exchange ex, String name, String command, ObjectNode args) {
        qmp.call(ex, command, args, ret -> lookup(ex, name, created -> {
            ex.response().putHeader("Location", path + "/" + name);
            ex.sendJson(201, created != null ? created : NODES.objectNode().put(key, name));
        }), failed -> lookup(ex, name, found -> sendFailure(ex, failed, HttpErrors.createFailed(failed.outcome(), found != null))));
    }

    /**
     * DELETE: runs {@code command}; success goes to {@code deleted}. On failure the entry is looked
     * up: absent is 404, present means its state forbids the deletion (409, e.g. in use).
     */
    void delete(Exchange ex, String name, String command, ObjectNode args, Consumer<JsonNode> deleted) {
        qmp.call(ex, command, args, deleted, failed -> lookup(ex, name, found -> {
            if (found == null && HttpErrors.isUserError(failed.outcome())) {
                notFound(ex, name);
            } else {
                sendFailure(ex, failed, HttpErrors.deleteFailed(failed.outcome(), found != null));
            }
        }));
    }

    private static void sendFailure(Exchange ex, QmpReply failed, int status) {
        ex.sendJson(status, failed.response());
    }

    JsonNode entry(JsonNode list, String name) {
        for (JsonNode e : list) {
            if (name.equals(e.path(key).asText(null))) {
                return e;
            }
        }
        return null;
    }

    private static ObjectNode copy(ObjectNode args) {
        return args == null ? null : args.deepCopy();
    }
}
