package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QueryVersion;

/**
 * {@code GET /api/v1/openapi.json}: an OpenAPI 3.1 document generated from the same introspection
 * as {@code query-qmp-schema}, so the HTTP description cannot drift from the commands. Each
 * SchemaInfo type becomes {@code components.schemas.<masked name>}; each command becomes
 * {@code POST /api/v1/commands/<name>} taking its arg-type and returning its ret-type.
 */
final class OpenApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String REF = "#/components/schemas/";

    private OpenApi() {
    }

    static ObjectNode document(CommandRegistry registry) {
        ObjectNode doc = NODES.objectNode();
        doc.put("openapi", "3.1.0");
        doc.putObject("info").put("title", "qmpd HTTP API")
                .put("version", QueryVersion.VERSION.qemu().major() + "." + QueryVersion.VERSION.qemu().minor()
                        + "." + QueryVersion.VERSION.qemu().micro());
        ObjectNode paths = doc.putObject("paths");
        ObjectNode schemas = doc.putObject("components").putObject("schemas");
        schemas.putObject("Error").put("type", "object").putObject("properties").putObject("error")
                .put("type", "object").putObject("properties")
                .<ObjectNode>set("class", NODES.objectNode().put("type", "string"))
                .set("desc", NODES.objectNode().put("type", "string"));
        for (JsonNode info : registry.introspect()) {
            String meta = info.get("meta-type").asText();
            if (meta.equals("command")) {
                paths.set("/api/v1/commands/" + info.get("name").asText(), command(info));
            } else if (!meta.equals("event")) {
                schemas.set(info.get("name").asText(), schema(info));
            }
        }
        return doc;
    }

    private static ObjectNode command(JsonNode info) {
        ObjectNode post = NODES.objectNode();
        ObjectNode op = post.putObject("post");
        op.put("operationId", info.get("name").asText());
        op.putObject("requestBody").put("required", false).putObject("content").putObject("application/json")
                .set("schema", ref(info.get("arg-type").asText()));
        ObjectNode responses = op.putObject("responses");
        responses.putObject("200").put("description", "the command's return value")
                .putObject("content").putObject("application/json").set("schema", ref(info.get("ret-type").asText()));
        responses.putObject("default").put("description", "a QMP error; the status follows its class")
                .putObject("content").putObject("application/json").set("schema", ref("Error"));
        return post;
    }

    private static ObjectNode ref(String name) {
        return NODES.objectNode().put("$ref", REF + name);
    }

    private static ObjectNode schema(JsonNode info) {
        ObjectNode s = NODES.objectNode();
        switch (info.get("meta-type").asText()) {
            case "builtin" -> builtin(s, info.get("json-type").asText());
            case "enum" -> {
                s.put("type", "string");
                s.set("enum", info.get("values").deepCopy());
            }
            case "array" -> s.put("type", "array").set("items", ref(info.get("element-type").asText()));
            case "alternate" -> {
                ArrayNode one = s.putArray("oneOf");
                info.get("members").forEach(m -> one.add(ref(m.get("type").asText())));
            }
            case "object" -> object(s, info);
            default -> { }   // an unknown meta-type: any value
        }
        return s;
    }

    private static void builtin(ObjectNode s, String jsonType) {
        switch (jsonType) {
            case "string" -> s.put("type", "string");
            case "int" -> s.put("type", "integer");
            case "number" -> s.put("type", "number");
            case "boolean" -> s.put("type", "boolean");
            case "null" -> s.put("type", "null");
            case "object" -> s.put("type", "object");
            default -> { }   // "value": any JSON value
        }
    }

    private static void object(ObjectNode s, JsonNode info) {
        s.put("type", "object");
        ObjectNode props = s.putObject("properties");
        ArrayNode required = NODES.arrayNode();
        for (JsonNode m : info.get("members")) {
            props.set(m.get("name").asText(), ref(m.get("type").asText()));
            if (!m.has("default")) {
                required.add(m.get("name").asText());
            }
        }
        if (!required.isEmpty()) {
            s.set("required", required);
        }
        if (info.has("variants")) {
            // A flat union: the tag member picks which variant's members come with the base's.
            ArrayNode one = s.putArray("oneOf");
            ObjectNode mapping = NODES.objectNode();
            for (JsonNode v : info.get("variants")) {
                one.add(ref(v.get("type").asText()));
                mapping.put(v.get("case").asText(), REF + v.get("type").asText());
            }
            s.putObject("discriminator").put("propertyName", info.get("tag").asText()).set("mapping", mapping);
        } else {
            s.put("additionalProperties", false);
        }
    }
}
