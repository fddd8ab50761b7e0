package qmpd.qmp.command;

import java.util.List;
import java.util.Set;
import qmpd.qmp.QmpEvents;

/**
 * What a running command may see of the monitor and the server. One per request; valid until the
 * command's result is complete.
 */
public interface QmpContext {

    /** The monitor connection that sent the request. */
    Session session();

    /** Broadcasts events to every negotiated client. */
    QmpEvents events();

    /** The command table. */
    CommandRegistry registry();

    /** Asks the server owner to shut the daemon down after the current reply is sent. */
    void requestShutdown();

    /** The connection state {@code qmp_capabilities} and {@code query-commands} need. */
    interface Session {
        /** Capabilities this monitor offers (always {@code oob} for socket monitors). */
        Set<String> offeredCapabilities();

        /** True once {@code qmp_capabilities} succeeded. */
        boolean negotiated();

        /** Leaves negotiation mode with {@code enabled} capabilities switched on. */
        void completeNegotiation(Set<String> enabled);

        /** Names of the commands the session accepts in its current mode. */
        default List<String> commandNames(CommandRegistry registry) {
            return negotiated() ? registry.names() : List.of("qmp_capabilities");
        }
    }
}
