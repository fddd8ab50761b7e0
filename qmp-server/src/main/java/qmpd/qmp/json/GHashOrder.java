package qmpd.qmp.json;

import java.util.ArrayList;
import java.util.List;

/**
 * A model of the GLib string hash table (glib/ghash.c, GLib 2.74: {@code g_str_hash}, index
 * {@code hash * 11 % prime}, quadratic probing, tombstones, resizing) that QEMU's input visitor
 * uses to remember the members it has not visited yet, and QOM uses for an object's properties.
 * Only iteration order matters here: when several members are unexpected, QEMU names the first one
 * left in this table, and {@code query-iothreads} and {@code qom-list} list objects in this order
 * (qom-list reversed), so we do too.
 *
 * <p>Not thread-safe; one per validated object.
 */
public final class GHashOrder {
    private static final int MIN_SHIFT = 3;
    private static final int[] PRIME_MOD = {1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191,
        16381, 32749, 65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393,
        67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647};
    private static final int UNUSED = 0;
    private static final int TOMBSTONE = 1;

    private int size;
    private int mod;
    private int mask;
    private int nnodes;
    private int noccupied;
    private int[] hashes;
    private String[] keys;

    public GHashOrder() {
        setShift(MIN_SHIFT);
        hashes = new int[size];
        keys = new String[size];
    }

    private void setShift(int shift) {
        size = 1 << shift;
        mod = PRIME_MOD[shift];
        mask = size - 1;
    }

    /** GLib's g_str_hash (djb2 over signed chars), never 0 or 1. */
    static int strHash(String key) {
        int h = 5381;
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h = (h << 5) + h + b;
        }
        return isReal(h) ? h : 2;
    }

    /** Hashes are unsigned in GLib: 0 marks an unused slot, 1 a tombstone, anything else a key. */
    private static boolean isReal(int hash) {
        return hash != UNUSED && hash != TOMBSTONE;
    }

    private int toIndex(int hash) {
        return Integer.remainderUnsigned(hash * 11, mod);
    }

    private int lookup(String key, int hash) {
        int index = toIndex(hash);
        int firstTombstone = -1;
        int step = 0;
        while (hashes[index] != UNUSED) {
            if (hashes[index] == hash && key.equals(keys[index])) {
                return index;
            }
            if (hashes[index] == TOMBSTONE && firstTombstone < 0) {
                firstTombstone = index;
            }
            step++;
            index = (index + step) & mask;
        }
        return firstTombstone >= 0 ? firstTombstone : index;
    }

    /** {@code g_hash_table_insert} of a string key. */
    public void insert(String key) {
        int hash = strHash(key);
        int index = lookup(key, hash);
        int old = hashes[index];
        if (isReal(old)) {
            return;   // already present
        }
        hashes[index] = hash;
        keys[index] = key;
        nnodes++;
        if (old == UNUSED) {
            noccupied++;
            maybeResize();
        }
    }

    /** {@code g_hash_table_remove}. */
    public void remove(String key) {
        int hash = strHash(key);
        int index = lookup(key, hash);
        if (!isReal(hashes[index])) {
            return;
        }
        hashes[index] = TOMBSTONE;
        keys[index] = null;
        nnodes--;
        maybeResize();
    }

    /** The remaining keys in iteration order. */
    public List<String> keys() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (isReal(hashes[i])) {
                out.add(keys[i]);
            }
        }
        return out;
    }

    private void maybeResize() {
        if ((size > nnodes * 4 && size > 1 << MIN_SHIFT) || size <= noccupied + noccupied / 16) {
            resize();
        }
    }

    private void resize() {
        int oldSize = size;
        int n = (int) (nnodes * 1.333);
        int shift = 0;
        while (n != 0) {
            n >>= 1;
            shift++;
        }
        setShift(Math.max(shift, MIN_SHIFT));
        int alloc = Math.max(size, oldSize);
        if (size > oldSize) {
            hashes = java.util.Arrays.copyOf(hashes, size);
            keys = java.util.Arrays.copyOf(keys, size);
        }
        boolean[] relocated = new boolean[alloc];
        // GLib's in-place rehash (resize_map): walk the old slots, evicting as it places.
        for (int i = 0; i < oldSize; i++) {
            int nodeHash = hashes[i];
            if (!isReal(nodeHash)) {
                hashes[i] = UNUSED;
                continue;
            }
            if (relocated[i]) {
                continue;
            }
            hashes[i] = UNUSED;
            String key = keys[i];
            keys[i] = null;
            while (true) {
                int index = toIndex(nodeHash);
                int step = 0;
                while (relocated[index]) {
                    step++;
                    index = (index + step) & mask;
                }
                relocated[index] = true;
                int replaced = hashes[index];
                String replacedKey = keys[index];
                hashes[index] = nodeHash;
                keys[index] = key;
                if (!isReal(replaced)) {
                    break;
                }
                nodeHash = replaced;
                key = replacedKey;
            }
        }
        if (size < oldSize) {
            hashes = java.util.Arrays.copyOf(hashes, size);
            keys = java.util.Arrays.copyOf(keys, size);
        }
        noccupied = nnodes;
    }
}
