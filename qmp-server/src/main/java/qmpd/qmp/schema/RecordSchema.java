package qmpd.qmp.schema;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import qmpd.config.schema.OptionalMember;

/**
 * Derives a {@link QapiType} from a record, so a command's argument and return records are its
 * schema: String is {@code str}, Long/Integer {@code int}, Boolean {@code bool}, Double
 * {@code number}, JsonNode {@code any}, List {@code [T]}, a Java enum a QAPI enum, a record a
 * struct. Components marked {@link OptionalMember} are optional. Member names are the kebab-case
 * wire names the shared ObjectMapper uses, or the {@link JsonProperty} value.
 */
public final class RecordSchema {
    private static final Map<Type, QapiType> CACHE = new ConcurrentHashMap<>();

    private RecordSchema() {
    }

    /** The struct type of {@code record}. */
    public static QapiType.Struct of(Class<?> record) {
        return (QapiType.Struct) typeOf(record);
    }

    /** The type of any supported Java type. */
    public static QapiType typeOf(Type type) {
        QapiType cached = CACHE.get(type);
        if (cached != null) {
            return cached;
        }
        QapiType t = compute(type);
        CACHE.put(type, t);
        return t;
    }

    private static QapiType compute(Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            return new QapiType.Array(typeOf(p.getActualTypeArguments()[0]));
        }
        if (!(type instanceof Class<?> c)) {
            throw new IllegalArgumentException("no QAPI type for " + type);
        }
        if (c == String.class) {
            return QapiType.STR;
        }
        if (c == Long.class || c == long.class || c == Integer.class || c == int.class) {
            return QapiType.INT;
        }
        if (c == Boolean.class || c == boolean.class) {
            return QapiType.BOOL;
        }
        if (c == Double.class || c == double.class) {
            return QapiType.NUMBER;
        }
        if (JsonNode.class.isAssignableFrom(c)) {
            return QapiType.ANY;
        }
        if (c.isEnum()) {
            List<String> values = new ArrayList<>();
            for (Object constant : c.getEnumConstants()) {
                values.add(enumWireName((java.lang.Enum<?>) constant));
            }
            return new QapiType.Enum(c.getName(), values);
        }
        if (c.isRecord()) {
            List<QapiType.Member> members = new ArrayList<>();
            for (RecordComponent rc : c.getRecordComponents()) {
                members.add(new QapiType.Member(wireName(rc), typeOf(rc.getGenericType()),
                        rc.isAnnotationPresent(OptionalMember.class)));
            }
            return members.isEmpty() ? QapiType.EMPTY : new QapiType.Struct(c.getName(), members);
        }
        throw new IllegalArgumentException("no QAPI type for " + c);
    }

    /** The wire name of a record component (kebab-case unless {@link JsonProperty} says otherwise). */
    public static String wireName(RecordComponent rc) {
        JsonProperty p = rc.getAccessor().getAnnotation(JsonProperty.class);
        if (p == null) {
            p = rc.getAnnotation(JsonProperty.class);
        }
        if (p != null && !p.value().isEmpty()) {
            return p.value();
        }
        return kebab(rc.getName());
    }

    /** {@code pollMaxNs} to {@code poll-max-ns}. */
    public static String kebab(String camel) {
        StringBuilder s = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                s.append('-').append(Character.toLowerCase(ch));
            } else {
                s.append(ch);
            }
        }
        return s.toString();
    }

    /** The wire name of an enum constant: its {@link JsonProperty} value, else lower-kebab. */
    public static String enumWireName(java.lang.Enum<?> constant) {
        try {
            JsonProperty p = constant.getDeclaringClass().getField(constant.name()).getAnnotation(JsonProperty.class);
            if (p != null) {
                return p.value();
            }
        } catch (NoSuchFieldException e) {
            throw new AssertionError(e);
        }
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
