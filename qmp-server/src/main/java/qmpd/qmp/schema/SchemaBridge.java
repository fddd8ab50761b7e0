package qmpd.qmp.schema;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qmpd.config.keyval.Schema;

/**
 * Publishes the option schemas of the config module (one source for the command line and QMP) as
 * QMP types, for argument validation and {@code query-qmp-schema}. A recursive reference (raw's
 * inline {@code file}) becomes {@code any} here; the command visits it with the full schema.
 */
public final class SchemaBridge {
    private SchemaBridge() {
    }

    /** A struct or flat union as the argument type of a command. */
    public static QapiType.Struct struct(Schema.Type type) {
        return (QapiType.Struct) of(type);
    }

    public static QapiType of(Schema.Type type) {
        return switch (type) {
            case Schema.Str s -> QapiType.STR;
            case Schema.Bool b -> QapiType.BOOL;
            case Schema.Int i -> QapiType.INT;
            case Schema.Size s -> QapiType.INT;
            case Schema.Number n -> QapiType.NUMBER;
            case Schema.Any a -> QapiType.ANY;
            case Schema.Ref r -> QapiType.ANY;
            case Schema.Enum e -> new QapiType.Enum(e.name(), e.values());
            case Schema.ListOf l -> new QapiType.Array(of(l.element()));
            case Schema.Alternate a -> new QapiType.Alternate(a.name(), List.of(of(a.ifString()), of(a.ifObject())));
            case Schema.Struct s -> new QapiType.Struct(s.name(), members(s.fields()));
            case Schema.Union u -> {
                Map<String, QapiType.Struct> variants = new LinkedHashMap<>();
                u.branches().forEach((tag, fields) ->
                        variants.put(tag, new QapiType.Struct(u.name() + "-" + tag, members(fields))));
                yield new QapiType.Struct(u.name(), members(u.base()), u.discriminator(), variants);
            }
        };
    }

    private static List<QapiType.Member> members(List<Schema.Field> fields) {
        return fields.stream().map(f -> new QapiType.Member(f.name(), of(f.type()), f.optional())).toList();
    }
}
