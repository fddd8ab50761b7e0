package qmpd.block.export.nbd;

import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.HomeThread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * Requests an export's clients sent, by NBD command, and the error replies it answered them with
 * (for metrics; QEMU keeps no such counts).
 *
 * <p>Single writer, as {@code BlockStats}: every connection of an export runs in the home thread of
 * the export's node, which alone updates the counters, with a plain read and a release store (no
 * atomic read-modify-write on the request path). A move to another context happens inside a drained
 * section whose hand-off orders the old writer before the new one. Scrapes read with acquire loads
 * from any thread.
 */
public final class NbdRequestCounters {

    /**
     * The label of each counted command, by index: the eight commands of the protocol by their
     * wire number, then one slot for any other number a client sent (answered EINVAL), or a request
     * whose magic was wrong so that its type means nothing.
     */
    public static final List<String> COMMANDS = List.of("read", "write", "disc", "flush", "trim", "cache",
            "write_zeroes", "block_status", "unknown");

    private static final int UNKNOWN = COMMANDS.size() - 1;
    /** The slot for a request whose magic was wrong, so that its type field means nothing. */
    static final int UNREADABLE = UNKNOWN;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] requests = new long[COMMANDS.size()];
    private final long[] errors = new long[COMMANDS.size()];

    /** The slot of wire command {@code type}. */
    static int slot(int type) {
        return type >= 0 && type < UNKNOWN ? type : UNKNOWN;
    }

    /** A request header of wire command {@code type} was decoded (whatever becomes of it). */
    @HomeThread
    void request(int type) {
        int i = slot(type);
        LONGS.setRelease(requests, i, requests[i] + 1);
    }

    /** A request of wire command {@code type} was answered with an NBD error. */
    @HomeThread
    void error(int type) {
        int i = slot(type);
        LONGS.setRelease(errors, i, errors[i] + 1);
    }

    /** Requests counted for the command at {@code index} of {@link #COMMANDS}. */
    @AnyThread
    public long requests(int index) {
        return (long) LONGS.getAcquire(requests, index);
    }

    /** Error replies counted for the command at {@code index} of {@link #COMMANDS}. */
    @AnyThread
    public long errors(int index) {
        return (long) LONGS.getAcquire(errors, index);
    }
}
