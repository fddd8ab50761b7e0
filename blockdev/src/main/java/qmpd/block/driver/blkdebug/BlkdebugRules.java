package qmpd.block.driver.blkdebug;

import qmpd.aio.annotation.HomeThread;
import qmpd.block.BlockOp;
import qmpd.config.schema.block.BlkdebugOptions;
import qmpd.config.schema.block.BlkdebugOptions.InjectError;
import qmpd.config.schema.block.BlkdebugOptions.IoType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rule state machine of one blkdebug node, as QEMU 7.2's blkdebug_debug_event and rule_check:
 * <ul>
 *   <li>The node starts in state 1. A rule with state 0 applies in every state.</li>
 *   <li>When an event fires, its set-state rules for the current state pick the next state, and if
 *       any of its inject-error rules apply, they replace the active list (the last one listed is
 *       checked first, as QEMU inserts at the head).</li>
 *   <li>A request is checked against the active list: the first rule whose I/O type matches and
 *       whose sector (if any) lies inside the request fires. A {@code once} rule is then removed
 *       for good. Rules stay active until the next event with inject-error rules.</li>
 * </ul>
 *
 * <p>Owner: the node's home thread. Every event and every request reaches the node there; a move
 * to another context happens inside a drained section, which orders the two threads.
 */
final class BlkdebugRules {

    private static final int SECTOR = 512;

    /** Rules of each event, in the order given; a fired {@code once} rule is removed. */
    private final Map<String, List<InjectError>> injectByEvent = new HashMap<>();
    private final Map<String, List<BlkdebugOptions.SetState>> setStateByEvent = new HashMap<>();
    private final List<InjectError> active = new ArrayList<>();
    private long state = 1;

    BlkdebugRules(List<InjectError> inject, List<BlkdebugOptions.SetState> setState) {
        for (InjectError r : inject) {
            injectByEvent.computeIfAbsent(r.event(), e -> new ArrayList<>()).add(r);
        }
        for (BlkdebugOptions.SetState r : setState) {
            setStateByEvent.computeIfAbsent(r.event(), e -> new ArrayList<>()).add(r);
        }
    }

    boolean isEmpty() {
        return injectByEvent.isEmpty() && setStateByEvent.isEmpty();
    }

    /** The current state (for tests and introspection). */
    @HomeThread
    long state() {
        return state;
    }

    /** An event fired: activate its inject-error rules and apply its set-state rules. */
    @HomeThread
    void event(String event) {
        long newState = state;
        List<InjectError> inject = injectByEvent.get(event);
        if (inject != null) {
            boolean first = true;
            for (InjectError r : inject) {
                if (r.state() != 0 && r.state() != state) {
                    continue;
                }
                if (first) {
                    active.clear();
                    first = false;
                }
                active.addFirst(r);
            }
        }
        List<BlkdebugOptions.SetState> set = setStateByEvent.get(event);
        if (set != null) {
            for (BlkdebugOptions.SetState r : set) {
                if (r.state() == 0 || r.state() == state) {
                    newState = r.newState();
                }
            }
        }
        state = newState;
    }

    /**
     * The active rule that fires for this request, or null. A {@code once} rule that fires is
     * removed from the active list and from its event.
     */
    @HomeThread
    InjectError check(BlockOp op, long offset, long length) {
        if (active.isEmpty()) {
            return null;
        }
        IoType type = ioType(op);
        for (int i = 0; i < active.size(); i++) {
            InjectError r = active.get(i);
            if (!matchesType(r, type) || !matchesSector(r, offset, length)) {
                continue;
            }
            if (r.errno() <= 0 && r.delayNs() == 0) {
                return null;   // QEMU: a rule without an error does nothing, and stays
            }
            if (r.once()) {
                active.remove(i);
                List<InjectError> same = injectByEvent.get(r.event());
                same.remove(r);
                if (same.isEmpty()) {
                    injectByEvent.remove(r.event());
                }
            }
            return r;
        }
        return null;
    }

    private static boolean matchesType(InjectError r, IoType type) {
        if (r.iotype() != null) {
            return r.iotype() == type;
        }
        return type != IoType.BLOCK_STATUS;   // QEMU's default mask: all but block-status
    }

    /** QEMU: no sector matches every request; a sector matches requests with bytes covering it. */
    private static boolean matchesSector(InjectError r, long offset, long length) {
        if (r.sector() == -1) {
            return true;
        }
        if (r.sector() < 0 || r.sector() > Long.MAX_VALUE / SECTOR || length <= 0) {
            return false;
        }
        long at = r.sector() * SECTOR;
        return at >= offset && at - offset < length;
    }

    private static IoType ioType(BlockOp op) {
        return switch (op) {
            case READ -> IoType.READ;
            case WRITE -> IoType.WRITE;
            case WRITE_ZEROES -> IoType.WRITE_ZEROES;
            case DISCARD -> IoType.DISCARD;
            case FLUSH -> IoType.FLUSH;
            case BLOCK_STATUS -> IoType.BLOCK_STATUS;
        };
    }
}
