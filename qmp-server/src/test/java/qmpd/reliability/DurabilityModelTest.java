package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The checker of the kill -9 harness flags every kind of loss it is meant to find. */
class DurabilityModelTest {
    @Test
    void patternsDecodeToTheirGenerationAndDamageIsSeen() {
        byte[] b = BlockPattern.encode(7, 42);
        assertEquals(42, BlockPattern.decode(b, 0, 7));
        assertEquals(BlockPattern.CORRUPT, BlockPattern.decode(b, 0, 8), "another block's pattern");
        b[100] ^= 1;
        assertEquals(BlockPattern.CORRUPT, BlockPattern.decode(b, 0, 7), "one flipped bit");
        assertEquals(BlockPattern.ZEROES, BlockPattern.decode(new byte[BlockPattern.SIZE], 0, 7));
    }

    @Test
    void eachRuleOfTheModelIsEnforced() {
        DurabilityModel m = new DurabilityModel(4);
        m.sent(0, 1);
        m.sent(0, 2);
        m.writeAcked(0, 1, true);          // durable by FUA
        m.writeAcked(0, 2, false);         // acknowledged only
        assertEquals(DurabilityModel.Verdict.LOST_DURABLE, m.check(0, BlockPattern.ZEROES));
        assertEquals(DurabilityModel.Verdict.LOST_ACKNOWLEDGED, m.check(0, 1));
        assertEquals(DurabilityModel.Verdict.FOREIGN, m.check(0, 3));
        assertEquals(DurabilityModel.Verdict.CORRUPT, m.check(0, BlockPattern.CORRUPT));
        assertEquals(DurabilityModel.Verdict.OK, m.check(0, 2));

        m.sent(1, 5);
        m.writeAcked(1, 5, false);
        m.flushSent(100);
        m.sent(1, 6);                      // sent after the flush: not covered by it
        m.writeAcked(1, 6, false);
        m.flushAcked(100);
        assertEquals(5, m.durable(1));
        assertEquals(6, m.acked(1));
        m.serverLost();
        m.sent(2, 9);                      // never acknowledged: either outcome is fine
        assertEquals(DurabilityModel.Verdict.OK, m.check(2, BlockPattern.ZEROES));
        assertEquals(DurabilityModel.Verdict.OK, m.check(2, 9));
    }
}
