package qmpd.qmp.qom;

import qmpd.config.schema.IothreadProperties;

/**
 * Starts and stops the threads behind {@code iothread} objects. The QOM layer validates
 * properties first; the backend only applies them.
 */
public interface IOThreadBackend {

    /** Starts thread {@code iothread-<id>} with {@code props} (all members set); blocks until it runs. */
    Handle start(String id, IothreadProperties props);

    /** A running IOThread. */
    interface Handle {
        /** The native (Linux) thread id, as {@code query-iothreads} reports it. */
        long threadId();

        /** Applies new poll and pool parameters (all members set); takes effect at once. */
        void update(IothreadProperties props);

        /** Stops the thread and waits for it to end. */
        void stop();
    }
}
