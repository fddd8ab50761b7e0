package qmpd;

import java.lang.management.ManagementFactory;

/**
 * Where start-up time goes: with {@code -Dqmpd.trace.startup=true} each phase prints one line
 * on stderr, {@code qmpd: startup <phase> +<ms since the previous phase> at <ms since JVM start>}
 * (the JVM's own start, before {@code main}, is the first line's "at"). Off by default: then a
 * call is one read of a static final field.
 *
 * <p>Threading: called from the thread running {@link Main#main}; the lines are printed in the
 * order of the calls.
 */
final class StartupTrace {
    private static final boolean ON = Boolean.getBoolean("qmpd.trace.startup");
    private static long last;   // nanoTime of the previous phase; main thread only

    private StartupTrace() {
    }

    static void phase(String name) {
        if (!ON) {
            return;
        }
        long now = System.nanoTime();
        // Loaded only when tracing: the management classes are not needed otherwise.
        long sinceStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
        System.err.printf("qmpd: startup %s +%.1f ms at %d ms%n", name, last == 0 ? 0.0 : (now - last) / 1e6,
                sinceStart);
        last = now;
    }
}
