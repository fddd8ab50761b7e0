package qmpd.qmp.schema;

import java.util.List;
import java.util.Map;

/**
 * A type of our QAPI schema: what a command accepts or returns, or what an event carries. The same
 * description validates input (with QEMU's error texts, {@link ArgumentValidator}) and is published
 * by {@code query-qmp-schema} ({@link Introspection}).
 */
public sealed interface QapiType {

    /** The QAPI name; builtins keep theirs on the wire, others are masked by introspection. */
    String name();

    /** What QEMU's input visitor names in "Invalid parameter type for 'x', expected: ...". */
    String expected();

    /** str, int, bool, number, null, any. */
    record Builtin(String name, String jsonType, String expected) implements QapiType {
    }

    /** A string restricted to {@code values}. */
    record Enum(String name, List<String> values) implements QapiType {
        public Enum {
            values = List.copyOf(values);
        }

        @Override
        public String expected() {
            return "string";
        }
    }

    /** A list of {@code element}. */
    record Array(QapiType element) implements QapiType {
        @Override
        public String name() {
            return "[" + element.name() + "]";
        }

        @Override
        public String expected() {
            return "array";
        }
    }

    /**
     * A struct, or a flat union when {@code tag} is set: the tag is one of {@code members} (an enum)
     * and {@code variants} add members per tag value.
     */
    record Struct(String name, List<Member> members, String tag, Map<String, Struct> variants)
            implements QapiType {
        public Struct {
            members = List.copyOf(members);
            variants = variants == null ? Map.of() : java.util.Collections.unmodifiableMap(
                    new java.util.LinkedHashMap<>(variants));
        }

        public Struct(String name, List<Member> members) {
            this(name, members, null, null);
        }

        @Override
        public String expected() {
            return "object";
        }
    }

    /** One of several types, told apart by JSON type; mismatch names the alternate itself. */
    record Alternate(String name, List<QapiType> choices) implements QapiType {
        public Alternate {
            choices = List.copyOf(choices);
        }

        @Override
        public String expected() {
            return name;
        }
    }

    /** A struct member; optional ones are published with {@code "default": null}. */
    record Member(String name, QapiType type, boolean optional) {
    }

    Builtin STR = new Builtin("str", "string", "string");
    Builtin INT = new Builtin("int", "int", "integer");
    Builtin BOOL = new Builtin("bool", "boolean", "boolean");
    Builtin NUMBER = new Builtin("number", "number", "number");
    Builtin NULL = new Builtin("null", "null", "null");
    Builtin ANY = new Builtin("any", "value", "any");
    /** The empty object of argument-less commands and of {@code {}} returns. */
    Struct EMPTY = new Struct("", List.of());
}
