package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;

/**
 * Block exports as a REST resource, mapped onto the QMP commands (so the same checks apply):
 * <pre>
 *   GET    /api/v1/exports               query-block-exports                 200 [BlockExportInfo]
 *   GET    /api/v1/exports/ID            that entry                          200 | 404
 *   POST   /api/v1/exports               block-export-add with the body      201 | 400 | 409 if ID exists
 *   DELETE /api/v1/exports/ID[?mode=M]   block-export-del (mode safe|hard)   204 gone | 202 | 404 | 409 in use
 * </pre>
 * block-export-del is asynchronous in QEMU: the export is gone when BLOCK_EXPORT_DELETED is
 * emitted. Here, without clients the export goes (and the event is emitted) before the command
 * replies; {@code mode=safe} (the default) refuses an export with clients; only {@code mode=hard}
 * with clients connected leaves it shutting down after the reply, until they are dropped.
 * DELETE therefore waits for the event ({@link ExportDeletion}) and answers 204 once the export
 * is gone, or 202 with the entry ({@code shutting-down: true}) if that takes too long.
 */
final class ExportRoutes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final QmpRoutes qmp;
    private final Collection exports;

    ExportRoutes(QmpRoutes qmp) {
        this.qmp = qmp;
        this.exports = new Collection(qmp, "Export", "/api/v1/exports", "query-block-exports", null, "id");
    }

    /** {@code rest} is the path after {@code /api/v1/exports}: "", "/" or "/ID". */
    void handle(Exchange ex, HttpMethod m, String rest) {
        String id = rest.length() > 1 ? rest.substring(1) : null;
        if (id == null) {
            if (m.equals(HttpMethod.GET)) {
                exports.list(ex);
            } else if (m.equals(HttpMethod.POST)) {
                create(ex);
            } else {
                HttpGateway.notAllowed(ex, m, "GET, POST");
            }
        } else if (m.equals(HttpMethod.GET)) {
            exports.find(ex, id, found -> ex.sendJson(200, found));
        } else if (m.equals(HttpMethod.DELETE)) {
            delete(ex, id);
        } else {
            HttpGateway.notAllowed(ex, m, "GET, DELETE");
        }
    }

    /** The body is block-export-add's arguments, exactly as over QMP; id names the new resource. */
    private void create(Exchange ex) {
        ex.readJson(body -> {
            JsonNode id = body == null ? null : body.get("id");
            if (body == null || !body.isObject() || id == null || !id.isTextual()) {
                ex.sendError(400, "GenericError", "Body must be the arguments of block-export-add, with a string member 'id'");
                return;
            }
            exports.create(ex, id.textValue(), "block-export-add", (ObjectNode) body);
        });
    }

    private void delete(Exchange ex, String id) {
        String mode = ex.req.getParam("mode");
        if (mode != null && !mode.equals("safe") && !mode.equals("hard")) {
            ex.sendError(400, "GenericError", "Parameter 'mode' does not accept value '" + mode + "'");
            return;
        }
        ObjectNode args = NODES.objectNode().put("id", id);
        if (mode != null) {
            args.put("mode", mode);
        }
        // Listening starts before the command: without clients the event comes before its reply.
        ExportDeletion deletion = ExportDeletion.watch(qmp.server().events(), id, ex);
        exports.delete(ex, id, "block-export-del", args, r -> deletion.awaitGone(
                () -> ex.response().setStatusCode(204).end(),
                () -> exports.lookup(ex, id, entry -> {
                    if (entry == null) {
                        ex.response().setStatusCode(204).end();
                    } else {
                        ex.sendJson(202, entry);
                    }
                })));
        ex.response().closeHandler(v -> deletion.cancel());
        ex.response().endHandler(v -> deletion.cancel());
    }
}
