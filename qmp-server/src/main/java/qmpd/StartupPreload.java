package qmpd;

/**
 * Class initialisation start-up needs a moment later, done on a second thread (named
 * {@code qmpd-preload}) while the main thread parses the command line: the logging back end
 * (the first logger anywhere starts it) and the epoll/eventfd bindings of the event loops (FFM
 * down-calls, generated at class initialisation). The JVM runs each class initialiser once; a
 * thread that needs a class another thread is initialising waits for it, so the main thread
 * simply finds the work done, or waits for its end.
 *
 * <p>A failure here is ignored: the main thread meets the same failure when it uses the class,
 * and reports it as it would have without this thread.
 */
final class StartupPreload {
    private StartupPreload() {
    }

    /** Starts the preload thread; returns at once. */
    static void start() {
        Thread.ofPlatform().name("qmpd-preload").daemon(true).start(StartupPreload::run);
    }

    private static void run() {
        try {
            org.slf4j.LoggerFactory.getILoggerFactory();
            Class.forName("qmpd.aio.nativeio.LinuxSyscalls", true, StartupPreload.class.getClassLoader());
        } catch (Throwable t) {
            // See the class comment: the main thread reports it.
        }
    }
}
