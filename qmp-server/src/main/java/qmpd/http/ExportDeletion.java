package qmpd.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.qmp.QmpEvents;

/**
 * Waits for the BLOCK_EXPORT_DELETED event of one export, for {@code DELETE /api/v1/exports/ID}.
 * Registered before block-export-del runs, since without clients the export goes, and the event
 * is emitted, inside the command.
 *
 * <p>Threading: {@link #deliver} runs on the emitting thread (the main loop, or the thread that
 * dropped the last client) and hops to the gateway's loop; everything else runs on that loop.
 */
final class ExportDeletion implements QmpEvents.Listener {
    /** How long DELETE waits for a hard-deleted export's clients to be dropped before answering 202. */
    static final long WAIT_MS = 10_000;

    private final String id;
    private final Exchange ex;
    private volatile boolean gone;      // written by deliver, read on the loop
    private Runnable unlisten = () -> { };
    private Runnable onGone;            // loop only
    private long timer = -1;            // loop only
    private boolean finished;           // loop only

    private ExportDeletion(String id, Exchange ex) {
        this.id = id;
        this.ex = ex;
    }

    /** Starts listening for {@code id}'s deletion; {@link #cancel()} ends it. Loop only. */
    static ExportDeletion watch(QmpEvents events, String id, Exchange ex) {
        ExportDeletion d = new ExportDeletion(id, ex);
        d.unlisten = events.listen(d);
        return d;
    }

    @Override
    public boolean acceptsEvents() {
        return !gone;
    }

    @Override
    public void deliver(ObjectNode event) {
        if (event.path("event").asText().equals("BLOCK_EXPORT_DELETED")
                && id.equals(event.path("data").path("id").asText(null))) {
            gone = true;
            ex.onLoop(this::fire);
        }
    }

    /**
     * The command succeeded: runs {@code deleted} once the export is gone (at once if it already
     * is), or {@code slow} after {@link #WAIT_MS}.
     */
    void awaitGone(Runnable deleted, Runnable slow) {
        if (finished) {
            return;
        }
        onGone = deleted;
        if (gone) {
            fire();
            return;
        }
        timer = ex.timer(WAIT_MS, () -> {
            if (!finished) {
                cancel();
                slow.run();
            }
        });
    }

    private void fire() {
        if (onGone != null && !finished) {
            Runnable r = onGone;
            cancel();
            r.run();
        }
    }

    /** Stops listening (the answer is out, or the client left). */
    void cancel() {
        finished = true;
        unlisten.run();
        if (timer != -1) {
            ex.cancelTimer(timer);
            timer = -1;
        }
    }
}
