package qmpd.config.keyval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import qmpd.config.keyval.Schema.Alternate;
import qmpd.config.keyval.Schema.Field;
import qmpd.config.keyval.Schema.Int;
import qmpd.config.keyval.Schema.Struct;
import qmpd.config.keyval.Schema.Type;
import qmpd.config.keyval.Schema.Union;

/**
 * Checks a tree against a {@link Schema} type and converts it to typed JSON, as QEMU's
 * qapi/qobject-input-visitor.c does for the command line:
 * <ul>
 *   <li>{@link Mode#KEYVAL}: the tree came from {@link KeyvalParser}, every leaf is a string
 *       and is converted to the member's type (qobject_input_visitor_new_keyval);</li>
 *   <li>{@link Mode#JSON}: the tree is typed JSON and must already have the member's type
 *       (qobject_input_visitor_new).</li>
 * </ul>
 * Members are visited in schema order and unknown members are reported after the known
 * ones, so the first error is the one QEMU reports; messages name the parameter the way
 * QEMU does ({@code file.size} for keyval, {@code bitmaps[0]} for JSON list elements).
 *
 * <p>Not thread-safe: one instance per visit ({@link #visit} makes one).
 */
public final class InputVisitor {
    /** How leaves are read. */
    public enum Mode { KEYVAL, JSON }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /**
     * Containers nest at most this deep. QEMU has no limit of its own, but a recursive type
     * (raw's 'file') must not let a hostile argument exhaust the stack.
     */
    static final int MAX_DEPTH = 200;
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger UINT64_MAX = TWO_64.subtract(BigInteger.ONE);
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger INT64_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** One container being visited: QEMU's StackObject. */
    private static final class Frame {
        final String name;
        final boolean list;
        final Set<String> unvisited;   // struct: keys not consumed yet, in input order
        long index = -1;               // list: index of the last element consumed

        Frame(String name, JsonNode obj) {
            this.name = name;
            this.list = obj.isArray();
            this.unvisited = new LinkedHashSet<>();
            if (!list) {
                obj.fieldNames().forEachRemaining(unvisited::add);
            }
        }
    }

    private record Deferred(Schema.Check check, JsonNode value) {}

    private final Mode mode;
    private final ArrayDeque<Frame> stack = new ArrayDeque<>();   // head is the innermost
    private final List<Deferred> deferred = new ArrayList<>();

    private InputVisitor(Mode mode) {
        this.mode = mode;
    }

    /**
     * Visits {@code input} as {@code type}. {@code rootName} names the whole input in
     * messages (null on the command line, e.g. {@code blockdevs[1]} in a config file).
     *
     * @return the typed tree (objects keep the schema's member order)
     * @throws KeyvalException with QEMU's message on the first mismatch
     */
    public static JsonNode visit(Type type, JsonNode input, Mode mode, String rootName) {
        InputVisitor v = new InputVisitor(mode);
        JsonNode out = v.visitValue(type, rootName, input);
        for (Deferred d : v.deferred) {
            String err = d.check.check(d.value);
            if (err != null) {
                throw new KeyvalException(err);
            }
        }
        return out;
    }

    /** {@link #visit} for a struct or union at the root of a command line option. */
    public static ObjectNode visitObject(Type type, JsonNode input, Mode mode) {
        return (ObjectNode) visit(type, input, mode, null);
    }

    // ---- containers ----

    private JsonNode visitValue(Type type, String name, JsonNode obj) {
        return switch (type) {
            case Struct s -> visitStruct(name, obj, s.fields(), null);
            case Union u -> visitStruct(name, obj, u.base(), u);
            case Alternate a -> visitAlternate(a, name, obj);
            case Schema.ListOf l -> visitList(l, name, obj);
            case Schema.Str s -> NODES.textNode(string(name, obj));
            case Schema.Bool b -> NODES.booleanNode(bool(name, obj));
            case Int i -> integer(i, name, obj);
            case Schema.Size s -> size(name, obj);
            case Schema.Number n -> NODES.numberNode(number(name, obj));
            case Schema.Enum e -> enumValue(e, name, obj);
            case Schema.Any a -> obj.deepCopy();
            case Schema.Ref r -> visitValue(r.target().get(), name, obj);
        };
    }

    private ObjectNode visitStruct(String name, JsonNode obj, List<Field> fields, Union union) {
        if (!obj.isObject()) {
            throw invalidType(fullName(name), "object");
        }
        enter(name);
        Frame frame = new Frame(name, obj);
        stack.push(frame);
        ObjectNode out = NODES.objectNode();
        visitMembers(obj, fields, out);
        if (union != null) {
            String branch = out.get(union.discriminator()).asText();
            visitMembers(obj, union.branches().getOrDefault(branch, List.of()), out);
        }
        if (!frame.unvisited.isEmpty()) {
            throw new KeyvalException("Parameter '" + fullName(frame.unvisited.iterator().next()) + "' is unexpected");
        }
        stack.pop();
        return out;
    }

    private void visitMembers(JsonNode obj, List<Field> fields, ObjectNode out) {
        Frame frame = stack.peek();
        for (Field f : fields) {
            JsonNode member = obj.get(f.name());
            if (member == null) {
                if (!f.optional()) {
                    throw new KeyvalException("Parameter '" + fullName(f.name()) + "' is missing");
                }
                continue;
            }
            frame.unvisited.remove(f.name());
            JsonNode value = visitValue(f.type(), f.name(), member);
            out.set(f.name(), value);
            if (f.check() != null) {
                deferred.add(new Deferred(f.check(), value));
            }
        }
    }

    private JsonNode visitAlternate(Alternate a, String name, JsonNode obj) {
        if (obj.isTextual() && a.ifString() != null) {
            return visitValue(a.ifString(), name, obj);
        }
        if (obj.isObject() && a.ifObject() != null) {
            return visitValue(a.ifObject(), name, obj);
        }
        // The generated alternate visitor names the member without its path.
        throw invalidType(name != null ? name : "null", a.name());
    }

    private ArrayNode visitList(Schema.ListOf l, String name, JsonNode obj) {
        if (!obj.isArray()) {
            throw invalidType(fullName(name), "array");
        }
        enter(name);
        Frame frame = new Frame(name, obj);
        stack.push(frame);
        ArrayNode out = NODES.arrayNode();
        for (JsonNode element : obj) {
            frame.index++;
            out.add(visitValue(l.element(), null, element));
        }
        stack.pop();
        return out;
    }

    private void enter(String name) {
        if (stack.size() >= MAX_DEPTH) {
            throw new KeyvalException("Parameter '" + fullName(name) + "' is nested too deeply");
        }
    }

    // ---- scalars ----

    /** QEMU's qobject_input_get_keyval: the string a keyval leaf holds. */
    private String keyval(String name, JsonNode obj) {
        if (obj.isTextual()) {
            return obj.textValue();
        }
        if (obj.isContainerNode()) {
            throw new KeyvalException("Parameters '" + fullName(name) + ".*' are unexpected");
        }
        throw new KeyvalException("Internal error: parameter " + fullName(name) + " invalid");
    }

    private String string(String name, JsonNode obj) {
        if (mode == Mode.KEYVAL) {
            return keyval(name, obj);
        }
        if (!obj.isTextual()) {
            throw invalidType(fullName(name), "string");
        }
        return obj.textValue();
    }

    private boolean bool(String name, JsonNode obj) {
        if (mode == Mode.JSON) {
            if (!obj.isBoolean()) {
                throw invalidType(fullName(name), "boolean");
            }
            return obj.booleanValue();
        }
        return switch (keyval(name, obj)) {
            case "on", "yes", "true", "y" -> true;
            case "off", "no", "false", "n" -> false;
            default -> throw invalidValue(fullName(name), "'on' or 'off'");
        };
    }

    private JsonNode integer(Int type, String name, JsonNode obj) {
        BigInteger v;
        if (type.unsigned()) {
            v = mode == Mode.KEYVAL ? strtou64(name, keyval(name, obj)) : jsonUint64(name, obj);
            if (type != Schema.UINT64 && v.compareTo(BigInteger.valueOf(type.max())) > 0) {
                throw invalidValue(name != null ? name : "null", type.cName());
            }
        } else {
            v = mode == Mode.KEYVAL ? strtoi64(name, keyval(name, obj)) : jsonInt64(name, obj);
            if (v.compareTo(BigInteger.valueOf(type.min())) < 0 || v.compareTo(BigInteger.valueOf(type.max())) > 0) {
                throw invalidValue(name != null ? name : "null", type.cName());
            }
        }
        return number(v);
    }

    private JsonNode size(String name, JsonNode obj) {
        if (mode == Mode.JSON) {
            return number(jsonUint64(name, obj));   // QEMU's JSON visitor reads sizes as uint64
        }
        BigInteger v = strtosz(keyval(name, obj));
        if (v == null) {
            throw invalidValue(fullName(name), "size");
        }
        return number(v);
    }

    private double number(String name, JsonNode obj) {
        if (mode == Mode.JSON) {
            if (!obj.isNumber()) {
                throw invalidType(fullName(name), "number");
            }
            return obj.doubleValue();
        }
        String s = keyval(name, obj);
        if (!DOUBLE.matcher(s).matches()) {
            throw invalidType(fullName(name), "number");
        }
        double d = Double.parseDouble(s.strip());
        if (Double.isInfinite(d)) {
            throw invalidType(fullName(name), "number");
        }
        return d;
    }

    private JsonNode enumValue(Schema.Enum type, String name, JsonNode obj) {
        String s = string(name, obj);
        if (!type.values().contains(s)) {
            // QEMU's input_type_enum names the member without its path.
            throw new KeyvalException("Parameter '" + (name != null ? name : "null")
                    + "' does not accept value '" + s + "'");
        }
        return NODES.textNode(s);
    }

    private BigInteger jsonInt64(String name, JsonNode obj) {
        if (obj.isIntegralNumber()) {
            BigInteger v = obj.bigIntegerValue();
            if (v.compareTo(INT64_MIN) >= 0 && v.compareTo(INT64_MAX) <= 0) {
                return v;
            }
        }
        throw invalidType(fullName(name), "integer");
    }

    private BigInteger jsonUint64(String name, JsonNode obj) {
        if (obj.isIntegralNumber()) {
            BigInteger v = obj.bigIntegerValue();
            if (v.compareTo(INT64_MIN) >= 0 && v.compareTo(UINT64_MAX) <= 0) {
                return v.signum() < 0 ? v.add(TWO_64) : v;   // negative: for compatibility, as QEMU
            }
        }
        throw invalidValue(fullName(name), "uint64");
    }

    private BigInteger strtoi64(String name, String s) {
        BigInteger v = strtoint(s, 0, true);
        if (v == null || v.compareTo(INT64_MIN) < 0 || v.compareTo(INT64_MAX) > 0) {
            throw invalidValue(fullName(name), "integer");
        }
        return v;
    }

    private BigInteger strtou64(String name, String s) {
        BigInteger v = strtou64(s);
        if (v == null) {
            throw invalidValue(fullName(name), "integer");
        }
        return v;
    }

    // ---- C number syntax ----

    private static final Pattern DOUBLE =
            Pattern.compile("[ \\t\\n\\u000b\\f\\r]*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** End of a C integer prefix ({@code strtoll} with base 0 or 10) and its value. */
    private record Parsed(BigInteger value, int end) {}

    /**
     * C's strtoll/strtoull syntax: leading white space, a sign, then with {@code base} 0 a
     * {@code 0x} prefix (hex), a leading 0 (octal) or decimal digits. Returns null when no
     * digit was read; the value is exact (range checks are the caller's).
     */
    private static Parsed strtoPrefix(String s, int base) {
        int i = 0;
        while (i < s.length() && " \t\n\u000b\f\r".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        int radix = base == 0 ? 10 : base;
        if ((base == 0 || base == 16) && i + 1 < s.length() && s.charAt(i) == '0'
                && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')
                && i + 2 < s.length() && Character.digit(s.charAt(i + 2), 16) >= 0) {
            radix = 16;
            i += 2;
        } else if (base == 0 && i < s.length() && s.charAt(i) == '0') {
            radix = 8;
        }
        int start = i;
        while (i < s.length() && s.charAt(i) < 128 && Character.digit(s.charAt(i), radix) >= 0) {
            i++;
        }
        if (i == start) {
            return null;
        }
        int significant = start;
        while (significant < i - 1 && s.charAt(significant) == '0') {
            significant++;
        }
        // More than 70 significant digits is beyond 2^64 in any radix: don't convert them all.
        BigInteger v = i - significant > 70 ? BigInteger.ONE.shiftLeft(80)
                : new BigInteger(s.substring(significant, i), radix);
        return new Parsed(negative ? v.negate() : v, i);
    }

    /**
     * QEMU's qemu_strtou64(s, NULL, 0): the whole of {@code s} as a C unsigned integer
     * (decimal, 0x hex or 0 octal; a minus sign negates modulo 2^64), or null.
     */
    public static BigInteger strtou64(String s) {
        BigInteger v = strtoint(s, 0, true);
        if (v == null || v.abs().compareTo(UINT64_MAX) > 0) {
            return null;
        }
        return v.signum() < 0 ? v.add(TWO_64).mod(TWO_64) : v;
    }

    /** The whole of {@code s} as a C integer, or null on trailing characters or no digits. */
    private static BigInteger strtoint(String s, int base, boolean whole) {
        Parsed p = strtoPrefix(s, base);
        if (p == null || (whole && p.end != s.length())) {
            return null;
        }
        return p.value;
    }

    private static final Pattern FRACTION = Pattern.compile("\\.(\\d+)([eE][+-]?\\d+)?");

    /**
     * QEMU's qemu_strtosz: a decimal number with an optional fraction and an optional suffix
     * B, K, M, G, T, P or E (any case, powers of 1024), or a hex number without either.
     * A fraction needs a suffix; the result is rounded half up and must be below 2^64.
     * Returns null when {@code s} is not such a size.
     */
    public static BigInteger strtosz(String s) {
        Parsed p = strtoPrefix(s, 10);
        if (p == null || p.value.abs().compareTo(UINT64_MAX) > 0 || s.substring(0, p.end).indexOf('-') >= 0) {
            return null;
        }
        BigInteger val = p.value;
        int end = p.end;
        BigInteger valf = BigInteger.ZERO;   // the fraction, 64.64 fixed point
        if (val.signum() == 0 && end < s.length() && (s.charAt(end) == 'x' || s.charAt(end) == 'X')) {
            Parsed hex = strtoPrefix(s, 16);
            if (hex == null || hex.value.compareTo(UINT64_MAX) > 0) {
                return null;
            }
            // A fraction or a suffix on a hex number is rejected (QEMU deprecated it).
            if (hex.end < s.length() && (s.charAt(hex.end) == '.' || suffixMul(s.charAt(hex.end)) > 0)) {
                return null;
            }
            val = hex.value;
            end = hex.end;
        } else if (end < s.length() && s.charAt(end) == '.') {
            Matcher m = FRACTION.matcher(s).region(end, s.length());
            if (!m.lookingAt()) {
                end++;                               // "1.k" is 1k: a dot without digits
            } else if (m.group(2) != null) {
                return null;                         // an exponent makes it all invalid
            } else {
                // Digits past the 40th cannot move a 64-bit binary fraction: drop them.
                String digits = m.group(1).length() > 40 ? m.group(1).substring(0, 40) : m.group(1);
                valf = new BigDecimal("0." + digits).multiply(new BigDecimal(TWO_64)).toBigInteger();
                end = m.end();
            }
        }
        long mul = end < s.length() ? suffixMul(s.charAt(end)) : -1;
        if (mul > 0) {
            end++;
        } else {
            mul = 1;
        }
        if (mul == 1 && valf.signum() != 0) {
            return null;                             // a fraction needs a scale
        }
        BigInteger m = BigInteger.valueOf(mul);
        BigInteger result = val.multiply(m).add(valf.multiply(m).add(BigInteger.ONE.shiftLeft(63)).shiftRight(64));
        if (result.compareTo(UINT64_MAX) > 0 || end != s.length()) {
            return null;
        }
        return result;
    }

    private static long suffixMul(char c) {
        return switch (Character.toUpperCase(c)) {
            case 'B' -> 1L;
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            case 'T' -> 1L << 40;
            case 'P' -> 1L << 50;
            case 'E' -> 1L << 60;
            default -> -1L;
        };
    }

    private static JsonNode number(BigInteger v) {
        return v.bitLength() < 64 ? NODES.numberNode(v.longValue()) : NODES.numberNode(v);
    }

    // ---- names and messages ----

    /** QEMU's full_name(): the path to member {@code name} of the innermost container. */
    private String fullName(String name) {
        StringBuilder sb = new StringBuilder();
        for (Iterator<Frame> it = stack.iterator(); it.hasNext(); ) {
            Frame f = it.next();
            if (!f.list) {
                sb.insert(0, "." + (name != null ? name : "<anonymous>"));
            } else {
                sb.insert(0, mode == Mode.KEYVAL ? "." + f.index : "[" + f.index + "]");
            }
            name = f.name;
        }
        if (name != null) {
            sb.insert(0, name);
        } else if (!sb.isEmpty() && sb.charAt(0) == '.') {
            sb.deleteCharAt(0);
        } else if (sb.isEmpty()) {
            return "<anonymous>";
        }
        return sb.toString();
    }

    private static KeyvalException invalidType(String name, String expected) {
        return new KeyvalException("Invalid parameter type for '" + name + "', expected: " + expected);
    }

    private static KeyvalException invalidValue(String name, String expected) {
        return new KeyvalException("Parameter '" + name + "' expects " + expected);
    }
}
