package qmpd.metrics;

import java.util.List;

/**
 * What the QMP server counts for metrics, without depending on Micrometer: qmp-server keeps the
 * counters (its {@code QmpStats}) and {@link QmpMetrics} reads them at scrape time.
 *
 * <p>Threading: every method may be called from any thread and never blocks.
 */
public interface QmpCounters {

    /**
     * The counters of one command and outcome. {@code outcome} is {@code ok}, the QMP error class
     * ({@code GenericError}, {@code CommandNotFound}, ...) or {@code internal} (an unexpected
     * exception, sent as a GenericError). Commands the server does not know are counted under the
     * name {@code unknown}, so a client cannot create series at will.
     */
    interface CommandSeries {
        String command();

        String outcome();

        /** Requests with this outcome. */
        long count();

        /** Their summed time from dispatch to response, in nanoseconds. */
        long totalNanos();
    }

    /** Every series that exists now; a series, once created, exists for the server's lifetime. */
    List<CommandSeries> commandSeries();

    /** QMP monitors listening now (sockets of {@code --monitor}, and those added later). */
    int monitorsListening();

    /** Negotiating or negotiated clients connected to QMP monitors now. */
    int clientsConnected();

    /** Events emitted since the server started (each counted once, however many clients got it). */
    long eventsEmitted();
}
