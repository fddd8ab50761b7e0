package qmpd.config.keyval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small declarative description of option types, after QEMU's QAPI schema: enough to
 * validate and type a keyval tree or a JSON object the way QEMU's input visitor does.
 * Declarations are data: one table per option, e.g.
 * <pre>
 *   Struct cache = struct("BlockdevCacheOptions", opt("direct", BOOL), opt("no-flush", BOOL));
 * </pre>
 * All types are immutable and may be shared.
 */
public final class Schema {
    private Schema() {}

    /** A QAPI type. */
    public sealed interface Type permits Str, Bool, Int, Size, Number, Enum, Struct, Union, Alternate, ListOf, Any, Ref {}

    /** 'str'. */
    public record Str() implements Type {}

    /** 'bool': keyval accepts on/yes/true/y and off/no/false/n. */
    public record Bool() implements Type {}

    /**
     * An integer type. {@code cName} is what QEMU's range error says it expects
     * ("uint32_t"); int64 and uint64 have no range beyond their own.
     */
    public record Int(String qapiName, String cName, boolean unsigned, long min, long max) implements Type {}

    /** 'size': keyval accepts suffixes k, M, G, T, P, E (powers of 1024) and fractions with one. */
    public record Size() implements Type {}

    /** 'number' (a double). */
    public record Number() implements Type {}

    /** An enum: the value must be one of {@code values}, spelled exactly. */
    public record Enum(String name, List<String> values) implements Type {
        public Enum {
            values = List.copyOf(values);
        }
    }

    /** A struct: members in QAPI order (the order errors are found in). */
    public record Struct(String name, List<Field> fields) implements Type {
        public Struct {
            fields = List.copyOf(fields);
        }
    }

    /**
     * A flat union: {@code base} members (the discriminator among them, with an enum type
     * whose values are the branch names), then the members of the chosen branch.
     */
    public record Union(String name, List<Field> base, String discriminator, Map<String, List<Field>> branches)
            implements Type {
        public Union {
            base = List.copyOf(base);
            branches = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(branches));
        }

        /** The discriminator's field, declared in {@code base}. */
        public Field discriminatorField() {
            return base.stream().filter(f -> f.name().equals(discriminator)).findFirst().orElseThrow();
        }
    }

    /** An alternate of a string branch and an object branch (QEMU's BlockdevRef). */
    public record Alternate(String name, Type ifString, Type ifObject) implements Type {}

    /** A list ['element']. */
    public record ListOf(Type element) implements Type {}

    /** 'any': taken as it is. */
    public record Any() implements Type {}

    /** A reference to a type declared later: for recursive types (raw's 'file' is a BlockdevOptions). */
    public record Ref(java.util.function.Supplier<Type> target) implements Type {}

    /**
     * A check on a member's converted value, run after the whole option was visited (QEMU's
     * property setters run after the visit, too). Returns an error message, or null.
     */
    @FunctionalInterface
    public interface Check {
        String check(JsonNode value);
    }

    /** A struct member; {@code check} may be null. */
    public record Field(String name, Type type, boolean optional, Check check) {
        public Field {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
        }

        /** The same member with a check added. */
        public Field checked(Check c) {
            return new Field(name, type, optional, c);
        }
    }

    public static final Str STR = new Str();
    public static final Bool BOOL = new Bool();
    public static final Size SIZE = new Size();
    public static final Number NUMBER = new Number();
    public static final Any ANY = new Any();
    public static final Int INT = new Int("int", "int64_t", false, Long.MIN_VALUE, Long.MAX_VALUE);
    public static final Int INT8 = new Int("int8", "int8_t", false, Byte.MIN_VALUE, Byte.MAX_VALUE);
    public static final Int INT16 = new Int("int16", "int16_t", false, Short.MIN_VALUE, Short.MAX_VALUE);
    public static final Int INT32 = new Int("int32", "int32_t", false, Integer.MIN_VALUE, Integer.MAX_VALUE);
    /** uint64: min/max unused (the whole unsigned range). */
    public static final Int UINT64 = new Int("uint64", "uint64_t", true, 0, -1);
    public static final Int UINT8 = new Int("uint8", "uint8_t", true, 0, 0xff);
    public static final Int UINT16 = new Int("uint16", "uint16_t", true, 0, 0xffff);
    public static final Int UINT32 = new Int("uint32", "uint32_t", true, 0, 0xffff_ffffL);

    /** A required member. */
    public static Field req(String name, Type type) {
        return new Field(name, type, false, null);
    }

    /** An optional member ('*name' in QAPI). */
    public static Field opt(String name, Type type) {
        return new Field(name, type, true, null);
    }

    public static Enum enumOf(String name, String... values) {
        return new Enum(name, Arrays.asList(values));
    }

    public static Struct struct(String name, Field... fields) {
        return new Struct(name, Arrays.asList(fields));
    }

    public static ListOf listOf(Type element) {
        return new ListOf(element);
    }

    /** Concatenates member lists: a base and its extension, as QAPI's 'base'. */
    @SafeVarargs
    public static List<Field> concat(List<Field>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }

    /** A member list. */
    public static List<Field> fields(Field... fields) {
        return List.of(fields);
    }
}
