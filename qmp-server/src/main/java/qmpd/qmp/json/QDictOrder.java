package qmpd.qmp.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The order in which QEMU walks a JSON object (qobject/qdict.c): a 512-bucket hash table keyed by
 * {@code tdb_hash}, each bucket a list with the newest entry first. QEMU prints objects and checks
 * request members in this order, so following it makes our bytes and our choice among several
 * errors QEMU's: {@code {"micro": 22, "minor": 2, "major": 7}}, {@code "id"} before
 * {@code "error"}, {@code exec-oob} visited before {@code execute}.
 */
public final class QDictOrder {
    private static final int BUCKETS = 512;

    private QDictOrder() {
    }

    /** QEMU's {@code tdb_hash(key) % QDICT_BUCKET_MAX}. */
    static int bucket(String key) {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        int value = 0x238F13AF * b.length;
        for (int i = 0; i < b.length; i++) {
            value += (b[i] & 0xFF) << (i * 5 % 24);
        }
        return Integer.remainderUnsigned(1103515243 * value + 12345, BUCKETS);
    }

    private record Indexed(int bucket, int inserted, Map.Entry<String, JsonNode> entry) {
    }

    /** The members of {@code obj} in QEMU's order, taking its insertion order as QEMU's. */
    public static List<Map.Entry<String, JsonNode>> entries(JsonNode obj) {
        List<Indexed> all = new ArrayList<>(obj.size());
        int n = 0;
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            all.add(new Indexed(bucket(e.getKey()), n++, e));
        }
        all.sort(Comparator.comparingInt(Indexed::bucket).thenComparing(Indexed::inserted, Comparator.reverseOrder()));
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>(all.size());
        all.forEach(i -> out.add(i.entry()));
        return out;
    }

    /** The keys of {@code obj} in QEMU's order. */
    public static List<String> keys(ObjectNode obj) {
        List<String> out = new ArrayList<>(obj.size());
        entries(obj).forEach(e -> out.add(e.getKey()));
        return out;
    }
}
