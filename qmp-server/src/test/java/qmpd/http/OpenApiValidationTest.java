package qmpd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * The OpenAPI document a running qmpd serves, checked by the swagger parser (the reference OpenAPI
 * 3 parser and validator): no message at all, every command {@code query-commands} lists has its
 * path, and the resource routes are described.
 */
@Timeout(120)
class OpenApiValidationTest {
    @TempDir
    Path dir;

    private static SwaggerParseResult parse(String document) {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);   // every $ref must resolve
        return new OpenAPIV3Parser().readContents(document, null, options);
    }

    @Test
    void theServedDocumentValidatesAndCoversEveryCommandAndResource() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        try (QmpdProcess qmpd = QmpdProcess.start(dir, List.of(
                "--chardev", "socket,path=" + qmp + ",server=on,wait=off,id=m0", "--monitor", "chardev=m0",
                "--http", "host=127.0.0.1,port=0"))) {
            Http http = new Http(qmpd.awaitHttp(), null);
            HttpResponse<String> r = http.send("GET", "/api/v1/openapi.json", null);
            assertEquals(200, r.statusCode());

            SwaggerParseResult result = parse(r.body());
            assertEquals(List.of(), result.getMessages());
            OpenAPI api = result.getOpenAPI();
            assertNotNull(api);
            assertEquals("3.0.3", api.getOpenapi());

            Set<String> commands = new TreeSet<>();
            try (QmpClient c = QmpClient.negotiated(qmp, false)) {
                QmpClient.ret(c.execute("query-commands", null, null)).forEach(e -> commands.add(e.get("name").asText()));
            }
            assertTrue(commands.containsAll(Set.of("blockdev-add", "block-export-del", "qom-set", "query-iothreads")),
                    commands.toString());
            for (String name : commands) {
                PathItem p = api.getPaths().get("/api/v1/commands/" + name);
                assertNotNull(p, name);
                assertEquals(name, p.getPost().getOperationId());
            }

            PathItem nodes = api.getPaths().get("/api/v1/nodes");
            assertNotNull(nodes.getGet());
            assertNotNull(nodes.getPost().getResponses().get("201").getHeaders().get("Location"));
            PathItem node = api.getPaths().get("/api/v1/nodes/{name}");
            assertNotNull(node.getGet());
            assertNotNull(node.getDelete().getResponses().get("204"));
            assertNotNull(api.getPaths().get("/api/v1/nodes/{name}/stats").getGet());
            PathItem exports = api.getPaths().get("/api/v1/exports");
            assertNotNull(exports.getGet());
            assertNotNull(exports.getPost());
            PathItem export = api.getPaths().get("/api/v1/exports/{id}");
            assertNotNull(export.getGet());
            assertNotNull(export.getDelete().getResponses().get("202"));
            assertEquals("mode", export.getDelete().getParameters().get(1).getName());
            PathItem iothread = api.getPaths().get("/api/v1/iothreads/{id}");
            assertNotNull(iothread.getPatch());
            assertNotNull(iothread.getDelete());
            assertNotNull(api.getPaths().get("/api/v1/iothreads").getPost());
            assertNotNull(api.getPaths().get("/api/v1/qmp-ws").getGet().getResponses().get("101"));
            for (String route : new String[] {"/healthz", "/readyz", "/metrics", "/api/v1/qmp", "/api/v1/events",
                "/api/v1/openapi.json"}) {
                assertNotNull(api.getPaths().get(route), route);
            }
            // POST /api/v1/nodes takes blockdev-add's arguments: the same schema as the command's body.
            assertEquals(api.getPaths().get("/api/v1/commands/blockdev-add").getPost().getRequestBody().getContent()
                    .get("application/json").getSchema().get$ref(),
                    nodes.getPost().getRequestBody().getContent().get("application/json").getSchema().get$ref());
        }
    }

    @Test
    void theValidatorReportsBrokenDocuments() {
        // The same validator on documents with known faults: it is not a check that passes anything.
        String valid = "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}}";
        assertEquals(List.of(), parse(valid).getMessages());
        assertFalse(parse("{\"openapi\": \"3.0.3\", \"paths\": {}}").getMessages().isEmpty());   // no info
        assertFalse(parse("{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": "
                + "{\"/x\": {\"get\": {\"responses\": {\"200\": {\"content\": {}}}}}}}").getMessages().isEmpty());   // no description
        assertFalse(parse("{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": "
                + "{\"/x\": {\"get\": {\"responses\": {\"200\": {\"description\": \"d\", \"content\": {\"application/json\": "
                + "{\"schema\": {\"$ref\": \"#/components/schemas/Missing\"}}}}}}}}}").getMessages().isEmpty());   // dangling $ref
    }
}
