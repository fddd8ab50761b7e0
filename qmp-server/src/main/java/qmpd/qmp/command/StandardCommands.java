package qmpd.qmp.command;

import qmpd.qmp.qom.QomObjects;

/** Registers the session, introspection, QOM and IOThread commands and their events. */
public final class StandardCommands {
    private StandardCommands() {
    }

    /** Fills {@code registry} with every command of this module. */
    public static CommandRegistry register(CommandRegistry registry, QomObjects objects) {
        return registry
                .register(new QmpCapabilities())
                .register(new QueryVersion())
                .register(new QueryCommands())
                .register(new QueryQmpSchema())
                .register(new QueryStatus())
                .register(new Quit())
                .register(new ObjectAdd(objects))
                .register(new ObjectDel(objects))
                .register(new QueryIothreads(objects))
                .register(new QomList(objects))
                .register(new QomGet(objects))
                .register(new QomSet(objects))
                .registerEvent("SHUTDOWN", Quit.ShutdownData.class);
    }
}
