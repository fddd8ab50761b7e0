package qmpd.qmp.server;

import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.qmp.InBandExecutor;

/**
 * Runs in-band commands one at a time across every monitor, in the order they were queued, even
 * when a command polls the main loop while it waits (a drain, an IOThread move).
 *
 * <p>QEMU gets this from where its dispatcher lives: monitor_qmp_dispatcher_co runs in the
 * iohandler context, which the nested aio_poll() of a drain in the main context never
 * dispatches, so a second monitor's command waits until the first returns. Here every command
 * is a BH of the main loop; a nested poll would run the next one in the middle of the first.
 * So each command's BH only pumps this queue by one task, and a pump that finds another pump
 * already running below it on the stack returns at once and is counted; when the running command
 * is done, the outer pump schedules as many pumps again, so every queued task still gets its own
 * BH (one task per main-loop iteration, as before, so commands cannot starve the loop's I/O).
 */
final class InBandQueue implements InBandExecutor {
    private final InBandExecutor mainLoop;
    /** Filled from any thread (monitor loops, HTTP), emptied by the main loop. */
    private final ConcurrentLinkedQueue<Runnable> pending = new ConcurrentLinkedQueue<>();
    /** True while a pump runs a task; main loop only (the GlobalLock is held). */
    private boolean pumping;
    /** Pumps that returned without a task because one was running; main loop only. */
    private int deferred;

    InBandQueue(InBandExecutor mainLoop) {
        this.mainLoop = Objects.requireNonNull(mainLoop, "mainLoop");
    }

    @Override
    @AnyThread
    public void runOnce(String name, Runnable task) {
        pending.add(Objects.requireNonNull(task, "task"));
        // One BH per task keeps the debug name of each command.
        mainLoop.runOnce(name, this::pump);
    }

    @GlobalState
    private void pump() {
        if (pumping) {
            deferred++;   // nested in a running command's poll: scheduled again once it is done
            return;
        }
        Runnable task = pending.poll();
        if (task == null) {
            return;
        }
        pumping = true;
        try {
            task.run();
        } finally {
            pumping = false;
            for (; deferred > 0; deferred--) {
                mainLoop.runOnce("qmp-deferred", this::pump);
            }
        }
    }
}
