package qmpd.block.driver.blkdebug;

import org.junit.jupiter.api.Test;

import java.util.List;

import qmpd.block.BlockOp;
import qmpd.config.schema.block.BlkdebugOptions.InjectError;
import qmpd.config.schema.block.BlkdebugOptions.IoType;
import qmpd.config.schema.block.BlkdebugOptions.SetState;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The rule state machine against what qemu-io showed on QEMU 7.2's blkdebug under raw (the
 * commands are in docs/reliability.md): events arm rules, active rules stay armed until the next
 * event with rules, sectors match requests covering them, set-state gates state rules.
 */
class BlkdebugRulesTest {

    private static InjectError rule(String event, long state, IoType type, int errno, long sector, boolean once) {
        return new InjectError(event, state, type, errno, sector, once, false, 0);
    }

    @Test
    void nothingFiresBeforeItsEvent() {
        BlkdebugRules r = new BlkdebugRules(List.of(InjectError.of("read_aio")), List.of());
        assertNull(r.check(BlockOp.READ, 0, 512));   // QEMU: blkdebug exported directly never fails reads
        r.event("write_aio");
        assertNull(r.check(BlockOp.READ, 0, 512));
        r.event("read_aio");
        assertEquals(5, r.check(BlockOp.READ, 0, 512).errno());
        assertEquals(5, r.check(BlockOp.READ, 0, 512).errno(), "stays armed");
        // qemu-io 'sector': the armed rule's default mask also fails writes, flushes, zeroes, discards.
        assertEquals(5, r.check(BlockOp.WRITE, 0, 512).errno());
        assertEquals(5, r.check(BlockOp.FLUSH, 0, 0).errno());
        assertEquals(5, r.check(BlockOp.WRITE_ZEROES, 0, 512).errno());
        assertEquals(5, r.check(BlockOp.DISCARD, 0, 512).errno());
        assertNull(r.check(BlockOp.BLOCK_STATUS, 0, 512), "block-status only when asked for");
    }

    @Test
    void sectorsMatchRequestsCoveringThem() {
        BlkdebugRules r = new BlkdebugRules(List.of(rule("read_aio", 0, null, 28, 1, false)), List.of());
        r.event("read_aio");
        assertNull(r.check(BlockOp.READ, 0, 512));
        assertEquals(28, r.check(BlockOp.READ, 512, 512).errno());
        assertEquals(28, r.check(BlockOp.READ, 0, 1024).errno());
        assertEquals(28, r.check(BlockOp.READ, 511, 2).errno());
        assertNull(r.check(BlockOp.READ, 513, 4096));
        assertNull(r.check(BlockOp.FLUSH, 0, 0), "a flush covers no sector");
        BlkdebugRules neg = new BlkdebugRules(List.of(rule("read_aio", 0, null, 5, -7, false)), List.of());
        neg.event("read_aio");
        assertNull(neg.check(BlockOp.READ, 0, 1 << 20), "a negative sector other than -1 matches nothing");
    }

    @Test
    void onceRulesFireOnceAndErrnoZeroDoesNothing() {
        BlkdebugRules r = new BlkdebugRules(List.of(rule("read_aio", 0, IoType.READ, 5, -1, true)), List.of());
        r.event("read_aio");
        assertEquals(5, r.check(BlockOp.READ, 0, 512).errno());
        assertNull(r.check(BlockOp.READ, 0, 512));
        r.event("read_aio");
        assertNull(r.check(BlockOp.READ, 0, 512), "removed for good");

        BlkdebugRules none = new BlkdebugRules(List.of(rule("read_aio", 0, null, 0, -1, true),
                rule("write_aio", 0, null, -5, -1, false)), List.of());
        none.event("read_aio");
        assertNull(none.check(BlockOp.READ, 0, 512));
        none.event("write_aio");
        assertNull(none.check(BlockOp.READ, 0, 512), "QEMU returns -(-5): success");
    }

    @Test
    void anEventWithRulesReplacesTheArmedOnesAndTheLastListedIsCheckedFirst() {
        InjectError a = rule("read_aio", 0, IoType.READ, 5, -1, false);
        InjectError b = rule("read_aio", 0, IoType.READ, 28, -1, false);
        InjectError w = rule("write_aio", 0, IoType.WRITE, 1, -1, false);
        BlkdebugRules r = new BlkdebugRules(List.of(a, b, w), List.of());
        r.event("read_aio");
        assertSame(b, r.check(BlockOp.READ, 0, 512));
        r.event("write_aio");
        assertNull(r.check(BlockOp.READ, 0, 512), "read_aio's rules were replaced");
        assertSame(w, r.check(BlockOp.WRITE, 0, 512));
        r.event("flush_to_disk");   // no rules: the armed ones stay
        assertSame(w, r.check(BlockOp.WRITE, 0, 512));
    }

    @Test
    void setStateGatesStateRules() {
        // qemu-io 'state': read ok, write (state 1 -> 2) ok, read fails.
        BlkdebugRules r = new BlkdebugRules(List.of(rule("read_aio", 2, null, 5, -1, false)),
                List.of(new SetState("write_aio", 0, 2)));
        assertEquals(1, r.state());
        r.event("read_aio");
        assertNull(r.check(BlockOp.READ, 0, 512));
        r.event("write_aio");
        assertEquals(2, r.state());
        assertNull(r.check(BlockOp.WRITE, 0, 512));
        r.event("read_aio");
        assertEquals(5, r.check(BlockOp.READ, 0, 512).errno());
    }

    @Test
    void unknownEventsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InjectError.of("foo"));
        assertEquals("Invalid event name \"foo\"", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SetState("bar", 0, 1));
        assertThrows(IllegalArgumentException.class, () -> IoType.of("zap"));
    }
}
