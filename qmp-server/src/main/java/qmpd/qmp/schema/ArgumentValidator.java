package qmpd.qmp.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import qmpd.config.error.QmpException;
import qmpd.qmp.json.GHashOrder;
import qmpd.qmp.json.QDictOrder;

/**
 * Checks a JSON tree against a {@link QapiType} the way QEMU's generated unmarshallers and its
 * QObject input visitor do (qapi/qobject-input-visitor.c), with the same texts: members are visited
 * in declaration order (first missing or ill-typed one wins), unexpected members are reported after
 * (the first in QEMU's GLib hash table order, {@link GHashOrder}),
 * nested names are dotted ({@code cache.direct}) and list elements indexed ({@code enable[0]}). An
 * enum mismatch names only the member, or "null" inside a list (a QEMU 7.2 quirk kept on purpose).
 */
public final class ArgumentValidator {
    private ArgumentValidator() {
    }

    /** Validates command arguments; throws GenericError with QEMU's text on the first problem. */
    public static void validate(QapiType.Struct type, ObjectNode args) {
        struct(type, args, "");
    }

    private static String full(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    private static QmpException invalidType(String path, QapiType type) {
        return new QmpException.GenericError(
                "Invalid parameter type for '" + path + "', expected: " + type.expected());
    }

    private static void struct(QapiType.Struct type, ObjectNode obj, String prefix) {
        // QEMU keeps the members not visited yet in a GLib hash table and, if any are left at the
        // end, names the first in that table's order: model it so we name the same one.
        GHashOrder unvisited = new GHashOrder();
        QDictOrder.keys(obj).forEach(unvisited::insert);
        members(type, obj, prefix, unvisited);
        if (type.tag() != null) {
            String tagValue = obj.path(type.tag()).asText();
            QapiType.Struct variant = type.variants().get(tagValue);
            if (variant != null) {
                members(variant, obj, prefix, unvisited);
            }
        }
        List<String> left = unvisited.keys();
        if (!left.isEmpty()) {
            throw new QmpException.GenericError("Parameter '" + full(prefix, left.get(0)) + "' is unexpected");
        }
    }

    private static void members(QapiType.Struct type, ObjectNode obj, String prefix, GHashOrder unvisited) {
        for (QapiType.Member m : type.members()) {
            JsonNode v = obj.get(m.name());
            if (v == null) {
                if (!m.optional()) {
                    throw new QmpException.GenericError("Parameter '" + full(prefix, m.name()) + "' is missing");
                }
                continue;
            }
            unvisited.remove(m.name());
            value(m.type(), v, full(prefix, m.name()), m.name());
        }
    }

    /**
     * @param path the full name for type errors
     * @param leaf the bare name QEMU uses for enum errors (null inside a list)
     */
    private static void value(QapiType type, JsonNode v, String path, String leaf) {
        switch (type) {
            case QapiType.Builtin b -> {
                boolean ok = switch (b.name()) {
                    case "str" -> v.isTextual();
                    case "int" -> v.isIntegralNumber() && v.canConvertToLong();
                    case "bool" -> v.isBoolean();
                    case "number" -> v.isNumber();
                    case "null" -> v.isNull();
                    default -> true;
                };
                if (!ok) {
                    throw invalidType(path, b);
                }
            }
            case QapiType.Enum e -> {
                if (!v.isTextual()) {
                    throw invalidType(path, e);
                }
                if (!e.values().contains(v.textValue())) {
                    throw new QmpException.GenericError("Parameter '" + (leaf == null ? "null" : leaf)
                            + "' does not accept value '" + v.textValue() + "'");
                }
            }
            case QapiType.Array a -> {
                if (!v.isArray()) {
                    throw invalidType(path, a);
                }
                for (int i = 0; i < v.size(); i++) {
                    value(a.element(), v.get(i), path + "[" + i + "]", null);
                }
            }
            case QapiType.Struct s -> {
                if (!v.isObject()) {
                    throw invalidType(path, s);
                }
                struct(s, (ObjectNode) v, path);
            }
            case QapiType.Alternate alt -> {
                for (QapiType choice : alt.choices()) {
                    if (matchesJsonType(choice, v)) {
                        value(choice, v, path, leaf);
                        return;
                    }
                }
                throw invalidType(path, alt);
            }
        }
    }

    private static boolean matchesJsonType(QapiType t, JsonNode v) {
        return switch (t) {
            case QapiType.Builtin b -> switch (b.name()) {
                case "str" -> v.isTextual();
                case "int", "number" -> v.isNumber();
                case "bool" -> v.isBoolean();
                case "null" -> v.isNull();
                default -> true;
            };
            case QapiType.Enum e -> v.isTextual();
            case QapiType.Array a -> v.isArray();
            case QapiType.Struct s -> v.isObject();
            case QapiType.Alternate a -> true;
        };
    }
}
