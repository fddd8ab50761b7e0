package qmpd.qmp.server;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One dispatched request's outcome.
 *
 * @param response          the QMP response object ({@code return} or {@code error}, and {@code id})
 * @param outcome           {@code ok}, the QMP error class, or {@code internal} for an unexpected
 *                          exception (sent as a GenericError); what metrics count by
 * @param shutdownRequested the command ({@code quit}) asked the daemon to stop once the response is
 *                          out: the transport sends it, then calls {@link QmpServer#fireShutdown()}
 */
public record QmpReply(ObjectNode response, String outcome, boolean shutdownRequested) {
    /** The outcome of a command that returned normally. */
    public static final String OK = "ok";
    /** The outcome of a command that threw something other than a QmpException. */
    public static final String INTERNAL = "internal";

    QmpReply withShutdown(boolean requested) {
        return new QmpReply(response, outcome, requested);
    }
}
