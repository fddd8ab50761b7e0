package qmpd.qmp.server;

import java.util.Set;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpContext;

/**
 * The context of a request that comes without a monitor connection (one HTTP request): a session
 * that is negotiated from the start, with no capabilities, so {@code qmp_capabilities} is refused
 * as on a negotiated monitor and {@code exec-oob} is an unexpected member.
 */
final class NegotiatedContext implements QmpContext, QmpContext.Session {
    private final QmpServer server;
    private volatile boolean shutdownRequested;   // written by the command (main loop), read after

    NegotiatedContext(QmpServer server) {
        this.server = server;
    }

    boolean shutdownRequested() {
        return shutdownRequested;
    }

    @Override
    public Session session() {
        return this;
    }

    @Override
    public QmpEvents events() {
        return server.events();
    }

    @Override
    public CommandRegistry registry() {
        return server.registry();
    }

    @Override
    public void requestShutdown() {
        shutdownRequested = true;
    }

    @Override
    public Set<String> offeredCapabilities() {
        return Set.of();
    }

    @Override
    public boolean negotiated() {
        return true;
    }

    @Override
    public void completeNegotiation(Set<String> enabled) {
        // Never called: qmp_capabilities refuses a negotiated session.
    }
}
