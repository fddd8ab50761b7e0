package qmpd.config.cli;

import static qmpd.config.keyval.Schema.BOOL;
import static qmpd.config.keyval.Schema.INT;
import static qmpd.config.keyval.Schema.STR;
import static qmpd.config.keyval.Schema.UINT16;
import static qmpd.config.keyval.Schema.UINT32;
import static qmpd.config.keyval.Schema.UINT64;
import static qmpd.config.keyval.Schema.concat;
import static qmpd.config.keyval.Schema.enumOf;
import static qmpd.config.keyval.Schema.fields;
import static qmpd.config.keyval.Schema.listOf;
import static qmpd.config.keyval.Schema.opt;
import static qmpd.config.keyval.Schema.req;
import static qmpd.config.keyval.Schema.struct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import qmpd.config.keyval.Schema;
import qmpd.config.schema.block.BlkdebugOptions;
import qmpd.config.keyval.Schema.Field;
import qmpd.config.keyval.Schema.Union;

/**
 * The schemas of the command line options, transcribed from QEMU 7.2's QAPI schema
 * (qapi/block-core.json, block-export.json, qom.json, sockets.json, control.json) for the
 * drivers and types qmpd implements. Members are listed in QAPI order: the visitor reports
 * the first error in that order, as QEMU does. Adding a block driver is one entry in
 * {@link #BLOCKDEV_DRIVERS}; adding an object type is one entry in {@link #OBJECT_TYPES}.
 */
public final class OptionSchemas {
    private OptionSchemas() {}

    // ---- --object (ObjectOptions, qom.json) ----

    /** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
    static boolean idWellformed(String id) {
        return id.matches("[A-Za-z][A-Za-z0-9_.-]*");
    }

    static final String ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.";

    /** The identifier check QEMU's object and chardev creation run, with its hint line. */
    static final Schema.Check IDENTIFIER = v -> idWellformed(v.asText()) ? null
            : "Parameter 'id' expects an identifier\n" + ID_HINT;

    /** The range QOM's iothread and event-loop-base setters enforce for their int properties. */
    private static Field nonNegative(String name) {
        return opt(name, INT).checked(v -> v.asLong() >= 0 ? null
                : name + " value must be in range [0, " + Long.MAX_VALUE + "]");
    }

    /** EventLoopBaseProperties. */
    private static final List<Field> EVENT_LOOP_BASE = fields(
            nonNegative("aio-max-batch"), nonNegative("thread-pool-min"), nonNegative("thread-pool-max"));

    /** One entry per user-creatable object type qmpd implements: qom-type -> its properties. */
    public static final Map<String, List<Field>> OBJECT_TYPES = orderedMap(
            "iothread", concat(EVENT_LOOP_BASE, fields(
                    nonNegative("poll-max-ns"), nonNegative("poll-grow"), nonNegative("poll-shrink"))),
            "main-loop", EVENT_LOOP_BASE);

    public static final Union OBJECT = union("ObjectOptions", "qom-type", fields(
            req("id", STR).checked(IDENTIFIER)), OBJECT_TYPES);

    // ---- --blockdev (BlockdevOptions, block-core.json) ----

    private static final Schema.Struct CACHE = struct("BlockdevCacheOptions",
            opt("direct", BOOL), opt("no-flush", BOOL));

    private static final List<Field> BLOCKDEV_BASE = fields(
            opt("node-name", STR),
            opt("discard", enumOf("BlockdevDiscardOptions", "ignore", "unmap")),
            opt("cache", CACHE),
            opt("read-only", BOOL),
            opt("auto-read-only", BOOL),
            opt("force-share", BOOL),
            opt("detect-zeroes", enumOf("BlockdevDetectZeroesOptions", "off", "on", "unmap")));

    private static final List<Field> NULL_DRIVER = fields(
            opt("size", INT), opt("latency-ns", UINT64), opt("read-zeroes", BOOL));

    /** BlockdevRef: a node name, or a nested definition. */
    private static final Schema.Type BLOCKDEV_REF =
            new Schema.Alternate("BlockdevRef", STR, new Schema.Ref(() -> OptionSchemas.BLOCKDEV));

    private static final Schema.Enum BLKDEBUG_EVENT = new Schema.Enum("BlkdebugEvent", BlkdebugOptions.EVENTS);

    /** blkdebug's members qmpd implements; {@code x-delay-ns} is qmpd's extension. */
    private static final List<Field> BLKDEBUG = fields(
            req("image", BLOCKDEV_REF),
            opt("inject-error", listOf(struct("BlkdebugInjectErrorOptions",
                    req("event", BLKDEBUG_EVENT),
                    opt("state", INT),
                    opt("iotype", new Schema.Enum("BlkdebugIOType", BlkdebugOptions.IoType.qapiNames())),
                    opt("errno", INT),
                    opt("sector", INT),
                    opt("once", BOOL),
                    opt("immediately", BOOL),
                    opt("x-delay-ns", UINT64)))),
            opt("set-state", listOf(struct("BlkdebugSetStateOptions",
                    req("event", BLKDEBUG_EVENT),
                    opt("state", INT),
                    req("new_state", INT)))));

    /** One entry per block driver qmpd implements: driver name -> its members. */
    public static final Map<String, List<Field>> BLOCKDEV_DRIVERS = orderedMap(
            "blkdebug", BLKDEBUG,
            "file", fields(
                    req("filename", STR),
                    opt("pr-manager", STR),
                    opt("locking", enumOf("OnOffAuto", "auto", "on", "off")),
                    opt("aio", enumOf("BlockdevAioOptions", "threads", "native", "io_uring")),
                    opt("aio-max-batch", INT),
                    opt("drop-cache", BOOL),
                    opt("x-check-cache-dropped", BOOL)),
            "null-aio", NULL_DRIVER,
            "null-co", NULL_DRIVER,
            "raw", fields(
                    req("file", BLOCKDEV_REF),
                    opt("offset", INT),
                    opt("size", INT)));

    public static final Union BLOCKDEV = union("BlockdevOptions", "driver", BLOCKDEV_BASE, BLOCKDEV_DRIVERS);

    // ---- --export (BlockExportOptions, block-export.json) ----

    public static final Union EXPORT = union("BlockExportOptions", "type", fields(
            req("id", STR),
            opt("fixed-iothread", BOOL),
            opt("iothread", STR),
            req("node-name", STR),
            opt("writable", BOOL),
            opt("writethrough", BOOL)), orderedMap(
            "nbd", fields(
                    opt("name", STR),
                    opt("description", STR),
                    // BlockDirtyBitmapOrStr: a bitmap of the exported node, or of any node.
                    opt("bitmaps", listOf(new Schema.Alternate("BlockDirtyBitmapOrStr", STR,
                            struct("BlockDirtyBitmap", req("node", STR), req("name", STR))))),
                    opt("allocation-depth", BOOL))));

    // ---- --nbd-server (NbdServerOptions, sockets.json) ----

    public static final Union SOCKET_ADDRESS = union("SocketAddress", "type", fields(), orderedMap(
            "inet", fields(
                    req("host", STR), req("port", STR),
                    opt("numeric", BOOL), opt("to", UINT16), opt("ipv4", BOOL), opt("ipv6", BOOL),
                    opt("keep-alive", BOOL), opt("mptcp", BOOL)),
            "unix", fields(req("path", STR), opt("abstract", BOOL), opt("tight", BOOL)),
            "vsock", fields(req("cid", STR), req("port", STR)),
            "fd", fields(req("str", STR))));

    public static final Schema.Struct NBD_SERVER = struct("NbdServerOptions",
            req("addr", SOCKET_ADDRESS),
            opt("tls-creds", STR),
            opt("tls-authz", STR),
            opt("max-connections", UINT32));

    // ---- --monitor (MonitorOptions, control.json) ----

    public static final Schema.Struct MONITOR = struct("MonitorOptions",
            opt("id", STR),
            opt("mode", enumOf("MonitorMode", "readline", "control")),
            opt("pretty", BOOL),
            req("chardev", STR));

    // ---- --http (qmpd's own: the REST and metrics listener) ----

    public static final Schema.Struct HTTP = struct("HttpOptions",
            opt("host", STR),
            req("port", UINT16),
            opt("token-file", STR),
            opt("tls-cert", STR),
            opt("tls-key", STR));

    // ---- helpers ----

    /** A flat union whose discriminator comes first and is an enum of the branch names. */
    private static Union union(String name, String discriminator, List<Field> base, Map<String, List<Field>> branches) {
        List<Field> all = new ArrayList<>();
        all.add(req(discriminator, new Schema.Enum(name + "Kind", List.copyOf(branches.keySet()))));
        all.addAll(base);
        return new Union(name, all, discriminator, branches);
    }

    @SuppressWarnings("unchecked")
    private static <V> Map<String, V> orderedMap(Object... kv) {
        Map<String, V> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (V) kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
