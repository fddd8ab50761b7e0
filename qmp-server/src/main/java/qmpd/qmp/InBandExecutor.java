package qmpd.qmp;

/**
 * Where in-band commands run: the main loop, with the GlobalLock held, one task at a time
 * (QEMU's BQL-holding monitor dispatcher). {@code MainLoop.context()::runOnce} fits.
 */
@FunctionalInterface
public interface InBandExecutor {
    /** Runs {@code task} once, later, in the main loop; {@code name} is its debug name. */
    void runOnce(String name, Runnable task);
}
