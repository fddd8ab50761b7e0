package qmpd.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.block.BlockNode;
import qmpd.block.BlockStats;
import qmpd.config.json.Json;
import qmpd.qmp.json.QmpJsonWriter;

/** The JSON shapes of query-named-block-nodes (BlockDeviceInfo) and query-blockstats (BlockStats). */
final class BlockNodeInfo {
    private BlockNodeInfo() {
    }

    /** QAPI BlockDeviceInfo, with the members QEMU 7.2 sends for these drivers. */
    static ObjectNode deviceInfo(BlockNode n, ObjectNode options) {
        String file = filename(n, options);
        ObjectNode info = Json.mapper().createObjectNode();
        info.put("file", file);
        info.put("node-name", n.nodeName());
        info.put("ro", n.readOnly());
        info.put("drv", n.driverName());
        info.put("backing_file_depth", 0);
        info.put("encrypted", false);
        info.put("detect_zeroes", "off");
        for (String k : new String[] {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) {
            info.put(k, 0);   // no throttling on this node
        }
        ObjectNode image = info.putObject("image");
        image.put("filename", file);
        image.put("format", n.driverName());
        image.put("virtual-size", n.size());
        if (n.driverState().filename() != null) {
            image.put("dirty-flag", false);
        }
        ObjectNode cache = info.putObject("cache");
        cache.put("writeback", true);
        cache.put("direct", options != null && options.path("cache").path("direct").asBoolean(false));
        cache.put("no-flush", options != null && options.path("cache").path("no-flush").asBoolean(false));
        info.put("write_threshold", 0);
        return info;
    }

    /** A host path, else {@code json:{...}} of the driver and the options that define the image. */
    static String filename(BlockNode n, ObjectNode options) {
        String f = n.driverState().filename();
        if (f != null) {
            return f;
        }
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("driver", n.driverName());
        if (options != null) {
            for (String key : new String[] {"size", "read-zeroes", "offset"}) {
                if (options.has(key)) {
                    o.set(key, options.get(key));
                }
            }
            JsonNode child = options.get("file");
            if (child != null) {
                o.set("file", child);
            }
        }
        return "json:" + QmpJsonWriter.write(o, false);   // qobject_to_json, as QEMU builds it
    }

    /** QAPI BlockDeviceStats from the node's own counters. */
    static ObjectNode stats(BlockNode n) {
        BlockStats s = n.stats();
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("rd_bytes", s.bytes(BlockStats.Kind.READ));
        o.put("wr_bytes", s.bytes(BlockStats.Kind.WRITE));
        o.put("unmap_bytes", s.bytes(BlockStats.Kind.DISCARD));
        o.put("rd_operations", s.ops(BlockStats.Kind.READ));
        // Zero writes count as writes of no data, as QEMU's devices account them.
        o.put("wr_operations", s.ops(BlockStats.Kind.WRITE) + s.ops(BlockStats.Kind.ZERO));
        o.put("flush_operations", s.ops(BlockStats.Kind.FLUSH));
        o.put("unmap_operations", s.ops(BlockStats.Kind.DISCARD));
        o.put("rd_total_time_ns", s.totalTimeNs(BlockStats.Kind.READ));
        o.put("wr_total_time_ns", s.totalTimeNs(BlockStats.Kind.WRITE) + s.totalTimeNs(BlockStats.Kind.ZERO));
        o.put("flush_total_time_ns", s.totalTimeNs(BlockStats.Kind.FLUSH));
        o.put("unmap_total_time_ns", s.totalTimeNs(BlockStats.Kind.DISCARD));
        o.put("wr_highest_offset", 0);
        o.put("rd_merged", 0);
        o.put("wr_merged", 0);
        o.put("unmap_merged", 0);
        long last = s.lastCompletionNs();
        if (last != 0) {
            o.put("idle_time_ns", Math.max(0, System.nanoTime() - last));
        }
        o.put("failed_rd_operations", s.failed(BlockStats.Kind.READ));
        o.put("failed_wr_operations", s.failed(BlockStats.Kind.WRITE) + s.failed(BlockStats.Kind.ZERO));
        o.put("failed_flush_operations", s.failed(BlockStats.Kind.FLUSH));
        o.put("failed_unmap_operations", s.failed(BlockStats.Kind.DISCARD));
        o.put("invalid_rd_operations", s.invalid(BlockStats.Kind.READ));
        o.put("invalid_wr_operations", s.invalid(BlockStats.Kind.WRITE) + s.invalid(BlockStats.Kind.ZERO));
        o.put("invalid_flush_operations", s.invalid(BlockStats.Kind.FLUSH));
        o.put("invalid_unmap_operations", s.invalid(BlockStats.Kind.DISCARD));
        o.put("account_invalid", true);
        o.put("account_failed", true);
        o.putArray("timed_stats");
        return o;
    }
}
