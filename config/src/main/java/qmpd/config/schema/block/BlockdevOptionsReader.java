package qmpd.config.schema.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import qmpd.config.error.QmpException;

/**
 * Turns {@code blockdev-add} arguments, already checked against the BlockdevOptions schema (so
 * every member present has the right type), into the typed records. The records' own range checks
 * become GenericErrors naming the parameter, as QEMU's option parsing reports them.
 */
public final class BlockdevOptionsReader {
    private static final long NULL_DEFAULT_SIZE = 1L << 30;

    private BlockdevOptionsReader() {
    }

    /** Reads one node's options; inline children of {@code raw} and {@code blkdebug} are read recursively. */
    public static BlockdevOptions read(ObjectNode args) {
        String driver = args.path("driver").asText();
        String nodeName = text(args, "node-name");
        boolean readOnly = args.path("read-only").asBoolean(false);
        try {
            return switch (driver) {
                case "null-co" -> new BlockdevOptions.NullCo(nodeName, nullSize(args),
                        args.path("read-zeroes").asBoolean(false), args.path("latency-ns").asLong(0), readOnly);
                case "null-aio" -> new BlockdevOptions.NullAio(nodeName, nullSize(args),
                        args.path("read-zeroes").asBoolean(false), args.path("latency-ns").asLong(0), readOnly);
                case "file" -> new BlockdevOptions.File(nodeName, args.path("filename").asText(),
                        args.has("aio") ? BlockdevOptions.File.Aio.valueOf(upper(args.get("aio").asText())) : null,
                        args.path("cache").path("direct").asBoolean(false),
                        args.path("cache").path("no-flush").asBoolean(false),
                        args.has("locking") ? BlockdevOptions.File.Locking.valueOf(upper(args.get("locking").asText())) : null,
                        "unmap".equals(args.path("discard").asText()), readOnly);
                case "raw" -> raw(args, nodeName, readOnly);
                case "blkdebug" -> blkdebug(args, nodeName, readOnly);
                default -> throw new QmpException.GenericError("Parameter 'driver' does not accept value '" + driver + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new QmpException.GenericError(e.getMessage());
        }
    }

    private static BlockdevOptions raw(ObjectNode args, String nodeName, boolean readOnly) {
        JsonNode file = args.get("file");
        long offset = args.path("offset").asLong(0);
        Long size = args.has("size") ? args.get("size").asLong() : null;
        if (file.isTextual()) {
            return new BlockdevOptions.Raw(nodeName, file.asText(), null, offset, size, readOnly);
        }
        return new BlockdevOptions.Raw(nodeName, null, inlineChild(file, readOnly), offset, size, readOnly);
    }

    /** An inline child's options; it inherits read-only, as in QEMU. */
    private static BlockdevOptions inlineChild(JsonNode ref, boolean readOnly) {
        ObjectNode child = ((ObjectNode) ref).deepCopy();
        if (readOnly && !child.has("read-only")) {
            child.put("read-only", true);
        }
        return read(child);
    }

    private static BlockdevOptions blkdebug(ObjectNode args, String nodeName, boolean readOnly) {
        JsonNode image = args.get("image");
        List<BlkdebugOptions.InjectError> inject = new ArrayList<>();
        for (JsonNode r : args.path("inject-error")) {
            inject.add(new BlkdebugOptions.InjectError(r.path("event").asText(), r.path("state").asLong(0),
                    r.has("iotype") ? BlkdebugOptions.IoType.of(r.get("iotype").asText()) : null,
                    (int) r.path("errno").asLong(5), r.path("sector").asLong(-1), r.path("once").asBoolean(false),
                    r.path("immediately").asBoolean(false), r.path("x-delay-ns").asLong(0)));
        }
        List<BlkdebugOptions.SetState> setState = new ArrayList<>();
        for (JsonNode r : args.path("set-state")) {
            setState.add(new BlkdebugOptions.SetState(r.path("event").asText(), r.path("state").asLong(0),
                    r.path("new_state").asLong()));
        }
        return image.isTextual()
                ? new BlockdevOptions.Blkdebug(nodeName, image.asText(), null, inject, setState, readOnly)
                : new BlockdevOptions.Blkdebug(nodeName, null, inlineChild(image, readOnly), inject, setState, readOnly);
    }

    private static long nullSize(ObjectNode args) {
        JsonNode s = args.get("size");
        if (s == null) {
            return NULL_DEFAULT_SIZE;
        }
        if (s.isBigInteger() || s.asLong() < 0) {
            // QEMU 7.2 takes a negative size and qemu-storage-daemon aborts on it later.
            throw new QmpException.GenericError("Parameter 'size' expects a non-negative size");
        }
        return s.asLong();
    }

    private static String text(ObjectNode args, String key) {
        JsonNode v = args.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
