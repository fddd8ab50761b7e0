package qmpd.qmp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import qmpd.config.fuzz.FuzzInput;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.schema.QapiType;

/**
 * Builds QMP requests from fuzz input and the registered schema: a real command with arguments
 * that mostly fit its {@link QapiType}s (so the fuzzer gets past validation into the commands),
 * with wrong types, unknown members, odd numbers and strings mixed in. Names are drawn from small
 * pools so requests refer to nodes, exports and IOThreads that earlier requests created.
 *
 * <p>Every path and host is pinned to {@code sandbox} and loopback: fuzzing must never open,
 * resize or bind anything outside the test's directory.
 */
final class QmpRequestGenerator {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<String> NAMES = List.of("n0", "n1", "e0", "io0", "io1", "", "#bad", "x".repeat(200));
    private static final List<String> STRINGS = List.of("", "on", "off", "1k", "-1", "18446744073709551616", "\u0000",
            "\ud800", "\uffff", "caf\u00e9", "a,b", "../..", "null-co", "raw", "file", "nbd", "unix", "inet");
    private static final List<JsonNode> NUMBERS = List.of(NODES.numberNode(0), NODES.numberNode(1), NODES.numberNode(-1),
            NODES.numberNode(512), NODES.numberNode(1 << 20), NODES.numberNode(Long.MAX_VALUE),
            NODES.numberNode(Long.MIN_VALUE), NODES.numberNode(new BigInteger("18446744073709551615")),
            NODES.numberNode(1.5), NODES.numberNode(-0.0), NODES.numberNode(1e308), NODES.numberNode(4294967296L));

    private final List<QmpCommand<?, ?>> commands;
    private final Path sandbox;

    QmpRequestGenerator(CommandRegistry registry, Path sandbox) {
        this.commands = new ArrayList<>(registry.commands());
        this.commands.sort(java.util.Comparator.comparing(QmpCommand::name));
        this.sandbox = sandbox;
    }

    /** One request object, usually well-formed. */
    ObjectNode request(FuzzInput in) {
        QmpCommand<?, ?> cmd = in.pick(commands);
        ObjectNode req = NODES.objectNode();
        int shape = in.nextInt(16);
        req.put(shape == 0 ? "exec-oob" : "execute", shape == 1 ? in.nextString(20) : cmd.name());
        if (shape != 2) {
            req.set("arguments", shape == 3 ? any(in, 3) : struct(in, cmd.argsSchema(), 4));
        }
        if (in.nextBoolean()) {
            req.set("id", shape == 4 ? any(in, 3) : NODES.numberNode(in.nextInt(1000)));
        }
        if (shape == 5) {
            req.set(in.nextString(8), any(in, 1));
        }
        return req;
    }

    private JsonNode value(FuzzInput in, QapiType type, int depth) {
        if (in.nextInt(12) == 0) {
            return any(in, 2);   // the wrong type, now and then
        }
        return switch (type) {
            case QapiType.Builtin b -> switch (b.jsonType()) {
                case "string" -> NODES.textNode(in.nextInt(3) == 0 ? in.pick(STRINGS) : in.pick(NAMES));
                case "int", "number" -> in.pick(NUMBERS);
                case "boolean" -> NODES.booleanNode(in.nextBoolean());
                case "null" -> NODES.nullNode();
                default -> any(in, 2);
            };
            case QapiType.Enum e -> NODES.textNode(in.nextInt(8) == 0 || e.values().isEmpty()
                    ? in.nextString(10) : in.pick(e.values()));
            case QapiType.Array a -> {
                ArrayNode arr = NODES.arrayNode();
                int n = depth <= 0 ? 0 : in.nextInt(4);
                for (int i = 0; i < n; i++) {
                    arr.add(value(in, a.element(), depth - 1));
                }
                yield arr;
            }
            case QapiType.Struct s -> depth <= 0 ? NODES.objectNode() : struct(in, s, depth - 1);
            case QapiType.Alternate alt -> value(in, in.pick(alt.choices()), depth);
        };
    }

    private ObjectNode struct(FuzzInput in, QapiType.Struct s, int depth) {
        ObjectNode obj = NODES.objectNode();
        String tagValue = null;
        for (QapiType.Member m : s.members()) {
            boolean include = !m.optional() ? in.nextInt(16) != 0 : in.nextInt(3) == 0;
            if (!include) {
                continue;
            }
            JsonNode v;
            if (m.name().equals(s.tag()) && !s.variants().isEmpty() && in.nextInt(8) != 0) {
                tagValue = in.pick(new ArrayList<>(s.variants().keySet()));
                v = NODES.textNode(tagValue);
            } else {
                v = value(in, m.type(), depth);
            }
            obj.set(m.name(), v);
        }
        QapiType.Struct variant = tagValue == null ? null : s.variants().get(tagValue);
        if (variant != null) {
            for (QapiType.Member m : variant.members()) {
                if (!m.optional() ? in.nextInt(16) != 0 : in.nextInt(3) == 0) {
                    obj.set(m.name(), value(in, m.type(), depth));
                }
            }
        }
        if (in.nextInt(16) == 0) {
            obj.set(in.nextString(8), any(in, 1));
        }
        return sandboxed(obj);
    }

    /** Any JSON value. */
    JsonNode any(FuzzInput in, int depth) {
        return switch (in.nextInt(depth <= 0 ? 5 : 7)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(in.nextBoolean());
            case 2 -> in.pick(NUMBERS);
            case 3 -> NODES.textNode(in.nextString(30));
            case 4 -> NODES.textNode(in.pick(STRINGS));
            case 5 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = in.nextInt(4); i > 0; i--) {
                    a.add(any(in, depth - 1));
                }
                yield a;
            }
            default -> {
                ObjectNode o = NODES.objectNode();
                for (int i = in.nextInt(4); i > 0; i--) {
                    o.set(in.nextInt(2) == 0 ? in.pick(NAMES) : in.nextString(6), any(in, depth - 1));
                }
                yield sandboxed(o);
            }
        };
    }

    /** Pins file names, socket paths and hosts to the sandbox and loopback. */
    private ObjectNode sandboxed(ObjectNode o) {
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            switch (e.getKey()) {
                case "filename", "path" -> e.setValue(NODES.textNode(sandbox.resolve(
                        e.getValue().isTextual() && e.getValue().textValue().length() % 2 == 0 ? "disk" : "x").toString()));
                case "host" -> e.setValue(NODES.textNode("127.0.0.1"));
                case "port" -> e.setValue(NODES.textNode("0"));
                default -> { }
            }
        }
        return o;
    }

    /** Pins every path and host in a value that came from raw bytes; the same rules, applied deeply. */
    JsonNode sandboxDeep(JsonNode v) {
        if (v instanceof ObjectNode o) {
            sandboxed(o);
            o.properties().forEach(e -> sandboxDeep(e.getValue()));
        } else if (v instanceof ArrayNode a) {
            a.forEach(this::sandboxDeep);
        }
        return v;
    }
}
