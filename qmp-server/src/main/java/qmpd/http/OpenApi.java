package qmpd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Map;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QueryVersion;

/**
 * {@code GET /api/v1/openapi.json}: an OpenAPI 3.0.3 document generated from the same
 * introspection as {@code query-qmp-schema}, so the HTTP description cannot drift from the
 * commands. Each SchemaInfo type becomes {@code components.schemas.<name>} (masked names as
 * {@code query-qmp-schema} prints them; an array type {@code [T]} becomes {@code T-array}, since
 * component names may not contain brackets); each command becomes
 * {@code POST /api/v1/commands/<name>} taking its arg-type and returning its ret-type. The
 * gateway's own routes (health, metrics, events, WebSocket, resources) come from {@link OpenApiRoutes}.
 *
 * <p>3.0.3 rather than 3.1: it is the version the standard validators (the swagger parser among
 * them) check completely, and QAPI needs nothing from 3.1 but a {@code null} type, which 3.0
 * spells {@code nullable} with {@code enum: [null]}.
 */
final class OpenApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final String REF = "#/components/schemas/";

    private OpenApi() {
    }

    static ObjectNode document(CommandRegistry registry) {
        ObjectNode doc = NODES.objectNode();
        doc.put("openapi", "3.0.3");
        doc.putObject("info").put("title", "qmpd HTTP API")
                .put("description", "QMP over HTTP: every command, and REST resources mapped onto commands")
                .put("version", QueryVersion.VERSION.qemu().major() + "." + QueryVersion.VERSION.qemu().minor()
                        + "." + QueryVersion.VERSION.qemu().micro());
        ObjectNode paths = doc.putObject("paths");
        ObjectNode components = doc.putObject("components");
        ObjectNode schemas = components.putObject("schemas");
        components.putObject("securitySchemes").putObject("bearer").put("type", "http").put("scheme", "bearer")
                .put("description", "the token of --http token-file; not required without one");
        // Optional: a listener without a token file takes requests without Authorization.
        doc.putArray("security").add(NODES.objectNode().set("bearer", NODES.arrayNode())).add(NODES.objectNode());
        schemas.putObject("Error").put("type", "object").<ObjectNode>set("required", NODES.arrayNode().add("error"))
                .putObject("properties").putObject("error")
                .put("type", "object").<ObjectNode>set("required", NODES.arrayNode().add("class").add("desc"))
                .putObject("properties")
                .<ObjectNode>set("class", NODES.objectNode().put("type", "string"))
                .set("desc", NODES.objectNode().put("type", "string"));
        Map<String, JsonNode> byName = new HashMap<>();
        JsonNode introspection = registry.introspect();
        java.util.Set<String> variants = new java.util.HashSet<>();
        introspection.forEach(i -> i.path("variants").forEach(v -> variants.add(v.get("type").asText())));
        for (JsonNode info : introspection) {
            String meta = info.get("meta-type").asText();
            byName.put(info.get("name").asText(), info);
            if (meta.equals("command")) {
                paths.set("/api/v1/commands/" + info.get("name").asText(), command(info));
            } else if (!meta.equals("event")) {
                schemas.set(name(info.get("name").asText()), schema(info, variants));
            }
        }
        OpenApiRoutes.add(paths, schemas, byName);
        return doc;
    }

    /** The component name of a SchemaInfo type name. */
    static String name(String type) {
        return type.startsWith("[") && type.endsWith("]") ? name(type.substring(1, type.length() - 1)) + "-array" : type;
    }

    static ObjectNode ref(String type) {
        return NODES.objectNode().put("$ref", REF + name(type));
    }

    private static ObjectNode command(JsonNode info) {
        ObjectNode post = NODES.objectNode();
        ObjectNode op = post.putObject("post");
        String name = info.get("name").asText();
        op.put("operationId", name).put("summary", "QMP command " + name);
        op.putArray("tags").add("commands");
        op.putObject("requestBody").put("required", false).put("description", "the arguments; none: an empty body")
                .putObject("content").putObject("application/json").set("schema", ref(info.get("arg-type").asText()));
        ObjectNode responses = op.putObject("responses");
        responses.set("200", OpenApiRoutes.json("the command's return value", ref(info.get("ret-type").asText())));
        responses.set("default", OpenApiRoutes.error());
        return post;
    }

    /** @param variants the types used as a union's branch: their members come with the base's */
    private static ObjectNode schema(JsonNode info, java.util.Set<String> variants) {
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
            case "object" -> object(s, info, variants.contains(info.get("name").asText()));
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
            case "null" -> s.put("type", "string").put("nullable", true).putArray("enum").addNull();   // only null
            case "object" -> s.put("type", "object");
            default -> { }   // "value": any JSON value
        }
    }

    private static void object(ObjectNode s, JsonNode info, boolean isVariant) {
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
                mapping.put(v.get("case").asText(), REF + name(v.get("type").asText()));
            }
            s.putObject("discriminator").put("propertyName", info.get("tag").asText()).set("mapping", mapping);
        } else if (!isVariant) {
            s.put("additionalProperties", false);   // QMP refuses unexpected members
        }
    }
}
