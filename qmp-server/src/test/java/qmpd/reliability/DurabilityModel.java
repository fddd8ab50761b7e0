package qmpd.reliability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a writer knows about each block: every generation it sent, the highest one the server
 * acknowledged, and the highest one that is durable. A write is durable once it is acknowledged
 * with FUA, or once a flush that was sent after its acknowledgement is acknowledged (NBD: a flush
 * covers the writes that completed before it was sent). At most one write per block is in flight,
 * so a block's generations complete in the order they were sent.
 *
 * <p>Owned by one test thread.
 */
final class DurabilityModel {
    /** One finding of {@link #check}. */
    enum Verdict { OK, LOST_DURABLE, LOST_ACKNOWLEDGED, CORRUPT, FOREIGN }

    private final List<List<Long>> issued = new ArrayList<>();
    private final long[] acked;
    private final long[] durable;
    /** Acknowledged without FUA and not yet covered by a flush: block -> generation. */
    private final Map<Integer, Long> volatileAcked = new HashMap<>();
    /** Per flush handle in flight: the volatile writes it covers. */
    private final Map<Long, Map<Integer, Long>> flushCovers = new HashMap<>();

    DurabilityModel(int blocks) {
        acked = new long[blocks];
        durable = new long[blocks];
        for (int i = 0; i < blocks; i++) {
            issued.add(new ArrayList<>());
        }
    }

    void sent(int block, long gen) {
        issued.get(block).add(gen);
    }

    void writeAcked(int block, long gen, boolean fua) {
        acked[block] = Math.max(acked[block], gen);
        if (fua) {
            durable[block] = Math.max(durable[block], gen);
            volatileAcked.remove(block);
        } else {
            volatileAcked.put(block, gen);
        }
    }

    void flushSent(long handle) {
        flushCovers.put(handle, new HashMap<>(volatileAcked));
    }

    void flushAcked(long handle) {
        flushCovers.remove(handle).forEach((b, g) -> {
            durable[b] = Math.max(durable[b], g);
            volatileAcked.remove(b, g);
        });
    }

    /** The server died: requests in flight are now unknown (they may or may not have landed). */
    void serverLost() {
        flushCovers.clear();
        volatileAcked.clear();
    }

    long durable(int block) {
        return durable[block];
    }

    long acked(int block) {
        return acked[block];
    }

    /**
     * Checks what a block reads back after a restart, and takes it as the block's new baseline:
     * the process is gone, so what the file holds now is what the next run builds on.
     * <ul>
     * <li>CORRUPT: not zeroes and not a whole pattern of this block;
     * <li>FOREIGN: a pattern of a generation never sent to this block;
     * <li>LOST_DURABLE: older than the last durable generation (the durability contract broken);
     * <li>LOST_ACKNOWLEDGED: older than the last acknowledged generation. After a process kill the
     *     kernel still holds every write that reached it, so this means an acknowledgement was
     *     sent before the write reached the kernel.
     * </ul>
     */
    Verdict check(int block, long found) {
        if (found == BlockPattern.CORRUPT) {
            return Verdict.CORRUPT;
        }
        if (found != BlockPattern.ZEROES && Collections.binarySearch(issued.get(block), found) < 0) {
            return Verdict.FOREIGN;
        }
        Verdict v = found < durable[block] ? Verdict.LOST_DURABLE
                : found < acked[block] ? Verdict.LOST_ACKNOWLEDGED : Verdict.OK;
        if (v == Verdict.OK) {
            durable[block] = found;
            acked[block] = found;
        }
        return v;
    }
}
