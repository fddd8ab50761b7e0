package qmpd.qmp.schema;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@code query-qmp-schema} answer (QAPI introspection, qapi/introspect.json
 * {@code SchemaInfo}) from the registered commands and events. As in QEMU, every type other than a
 * builtin is published under a masked name: a decimal number in order of first use, with
 * {@code "0"} the empty object and {@code "[N]"} the array of N. Member order within an entry
 * follows what qemu-storage-daemon 7.2 prints.
 */
public final class Introspection {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** One command as introspection sees it. */
    public record CommandEntry(String name, QapiType.Struct args, QapiType returns, boolean allowOob) {
    }

    /** One event as introspection sees it. */
    public record EventEntry(String name, QapiType.Struct data) {
    }

    private final Map<QapiType, String> masked = new IdentityHashMap<>();
    private final Map<String, String> maskedByName = new LinkedHashMap<>();
    private final List<QapiType> pending = new ArrayList<>();
    private int nextNumber = 1;

    private Introspection() {
    }

    /** The full SchemaInfo list: commands, then events, then every type they use, then builtins. */
    public static ArrayNode build(List<CommandEntry> commands, List<EventEntry> events) {
        return new Introspection().run(commands, events);
    }

    private ArrayNode run(List<CommandEntry> commands, List<EventEntry> events) {
        ArrayNode out = NODES.arrayNode();
        masked.put(QapiType.EMPTY, "0");
        maskedByName.put("", "0");
        pending.add(QapiType.EMPTY);
        for (CommandEntry c : commands) {
            ObjectNode e = out.addObject();
            e.put("name", c.name());
            e.put("ret-type", ref(c.returns()));
            e.put("meta-type", "command");
            e.put("arg-type", ref(c.args()));
            if (c.allowOob()) {
                e.put("allow-oob", true);
            }
        }
        for (EventEntry ev : events) {
            ObjectNode e = out.addObject();
            e.put("name", ev.name());
            e.put("meta-type", "event");
            e.put("arg-type", ref(ev.data() == null ? QapiType.EMPTY : ev.data()));
        }
        for (int i = 0; i < pending.size(); i++) {
            out.add(describe(pending.get(i)));
        }
        for (QapiType.Builtin b : List.of(QapiType.STR, QapiType.ANY, QapiType.BOOL, QapiType.INT,
                QapiType.NULL, QapiType.NUMBER)) {
            ObjectNode e = out.addObject();
            e.put("name", b.name());
            e.put("json-type", b.jsonType());
            e.put("meta-type", "builtin");
        }
        return out;
    }

    /** The published name of {@code t}, queueing its description the first time. */
    private String ref(QapiType t) {
        if (t instanceof QapiType.Builtin b) {
            return b.name();
        }
        if (t instanceof QapiType.Array a) {
            String name = "[" + ref(a.element()) + "]";
            if (!maskedByName.containsKey(name)) {
                maskedByName.put(name, name);
                masked.put(t, name);
                pending.add(t);
            }
            return name;
        }
        if (t instanceof QapiType.Struct s && s.members().isEmpty() && s.tag() == null) {
            return "0";
        }
        String existing = masked.get(t);
        if (existing == null) {
            // Equal types (same name) share one entry, as one QAPI type does in QEMU.
            existing = maskedByName.get(t.name());
        }
        if (existing == null) {
            existing = Integer.toString(nextNumber++);
            masked.put(t, existing);
            maskedByName.put(t.name(), existing);
            pending.add(t);
        }
        return existing;
    }

    private ObjectNode describe(QapiType t) {
        ObjectNode e = NODES.objectNode();
        switch (t) {
            case QapiType.Array a -> {
                e.put("name", ref(a));
                e.put("element-type", ref(a.element()));
                e.put("meta-type", "array");
            }
            case QapiType.Enum en -> {
                e.put("name", ref(en));
                ArrayNode members = e.putArray("members");
                en.values().forEach(v -> members.addObject().put("name", v));
                e.put("meta-type", "enum");
                ArrayNode values = e.putArray("values");
                en.values().forEach(values::add);
            }
            case QapiType.Struct s -> {
                e.put("name", ref(s));
                if (s.tag() != null) {
                    e.put("tag", s.tag());
                    ArrayNode variants = e.putArray("variants");
                    s.variants().forEach((tag, v) -> variants.addObject().put("case", tag).put("type", ref(v)));
                }
                ArrayNode members = e.putArray("members");
                for (QapiType.Member m : s.members()) {
                    ObjectNode mo = members.addObject();
                    mo.put("name", m.name());
                    if (m.optional()) {
                        mo.putNull("default");
                    }
                    mo.put("type", ref(m.type()));
                }
                e.put("meta-type", "object");
            }
            case QapiType.Alternate alt -> {
                e.put("name", ref(alt));
                ArrayNode members = e.putArray("members");
                alt.choices().forEach(c -> members.addObject().put("type", ref(c)));
                e.put("meta-type", "alternate");
            }
            case QapiType.Builtin b -> throw new AssertionError(b);
        }
        return e;
    }
}
