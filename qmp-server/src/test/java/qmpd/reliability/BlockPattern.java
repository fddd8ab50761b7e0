package qmpd.reliability;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * A self-describing 4 KiB block: magic, block number, generation, pseudo-random filler derived
 * from both, and a CRC32C of everything before it. Reading a block back tells which write put it
 * there, or that it is all zeroes (never written), or that it is corrupt (torn, misplaced, garbage).
 */
final class BlockPattern {
    static final int SIZE = 4096;
    /** What {@link #decode} returns for a block that is all zeroes. */
    static final long ZEROES = 0;
    /** What {@link #decode} returns for a block that is neither zeroes nor a whole pattern of this block. */
    static final long CORRUPT = -1;
    private static final long MAGIC = 0x514d5044_52454c31L;   // "QMPDREL1"

    private BlockPattern() {
    }

    /** The block {@code block} as written by generation {@code gen} (gen > 0). */
    static byte[] encode(long block, long gen) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).putLong(MAGIC).putLong(block).putLong(gen);
        SplittableRandom r = new SplittableRandom(block * 0x9E3779B97F4A7C15L ^ gen);
        while (b.position() < SIZE - 8) {
            b.putLong(r.nextLong());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, SIZE - 8);
        return b.putLong(crc.getValue()).array();
    }

    /** The generation found in {@code data[off, off + SIZE)} for {@code block}, {@link #ZEROES} or {@link #CORRUPT}. */
    static long decode(byte[] data, int off, long block) {
        boolean zero = true;
        for (int i = off; i < off + SIZE && zero; i++) {
            zero = data[i] == 0;
        }
        if (zero) {
            return ZEROES;
        }
        ByteBuffer b = ByteBuffer.wrap(data, off, SIZE).slice();
        CRC32C crc = new CRC32C();
        crc.update(data, off, SIZE - 8);
        if (b.getLong(0) != MAGIC || b.getLong(8) != block || b.getLong(SIZE - 8) != crc.getValue()) {
            return CORRUPT;
        }
        long gen = b.getLong(16);
        return gen > 0 ? gen : CORRUPT;
    }
}
