package qmpd.qmp.command;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import qmpd.qmp.schema.Introspection;
import qmpd.qmp.schema.QapiType;
import qmpd.qmp.schema.RecordSchema;

/**
 * The command and event table of the server: each command registered once, by its wire name.
 * {@code query-commands} and {@code query-qmp-schema} are generated from it.
 *
 * <p>Threading: fill it before the first listener starts; afterwards it is only read (from any
 * thread), so registration is not synchronised beyond safe publication by the server start.
 */
public final class CommandRegistry {
    private final Map<String, QmpCommand<?, ?>> commands = new LinkedHashMap<>();
    private final Map<String, QapiType.Struct> events = new LinkedHashMap<>();

    /** Adds a command; a second command with the same name is a programming error. */
    public CommandRegistry register(QmpCommand<?, ?> command) {
        Objects.requireNonNull(command, "command");
        if (commands.putIfAbsent(command.name(), command) != null) {
            throw new IllegalStateException("command " + command.name() + " registered twice");
        }
        return this;
    }

    /** Declares an event and the record its {@code data} is made of (null: no data). */
    public CommandRegistry registerEvent(String name, Class<?> data) {
        events.put(name, data == null ? null : RecordSchema.of(data));
        return this;
    }

    /** The command called {@code name}, or null. */
    public QmpCommand<?, ?> find(String name) {
        return commands.get(name);
    }

    /** Every command name, in registration order. */
    public List<String> names() {
        return List.copyOf(commands.keySet());
    }

    /** Every command. */
    public Collection<QmpCommand<?, ?>> commands() {
        return List.copyOf(commands.values());
    }

    /** Whether an event of that name was declared. */
    public boolean hasEvent(String name) {
        return events.containsKey(name);
    }

    /** The SchemaInfo list of {@code query-qmp-schema}. */
    public com.fasterxml.jackson.databind.node.ArrayNode introspect() {
        List<Introspection.CommandEntry> cs = new ArrayList<>();
        for (QmpCommand<?, ?> c : commands.values()) {
            cs.add(new Introspection.CommandEntry(c.name(), c.argsSchema(), c.returns(), c.allowOob()));
        }
        List<Introspection.EventEntry> es = new ArrayList<>();
        events.forEach((n, d) -> es.add(new Introspection.EventEntry(n, d)));
        return Introspection.build(cs, es);
    }
}
