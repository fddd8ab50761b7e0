package qmpd.block.export.nbd;

/**
 * The NBD protocol's numbers (NetworkBlockDevice/nbd doc/proto.md; QEMU include/block/nbd.h).
 *
 * <pre>
 * Handshake, server first (fixed newstyle):
 *   u64 NBDMAGIC | u64 IHAVEOPT | u16 handshake flags          client: u32 client flags
 * Option, client to server:
 *   u64 IHAVEOPT | u32 option | u32 length | data[length]
 * Option reply, server to client:
 *   u64 REPLY_MAGIC | u32 option | u32 reply type | u32 length | data[length]
 * Request (28 bytes):
 *   u32 REQUEST_MAGIC | u16 flags | u16 type | u64 handle | u64 offset | u32 length | [data]
 * Simple reply (16 bytes):
 *   u32 SIMPLE_REPLY_MAGIC | u32 error | u64 handle | [data]
 * Structured reply chunk (20 bytes):
 *   u32 STRUCTURED_REPLY_MAGIC | u16 flags | u16 type | u64 handle | u32 length | payload
 * </pre>
 * All numbers are big-endian, as ByteBuffer's default order.
 */
public final class Nbd {
    private Nbd() {
    }

    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // Handshake flags (server) and client flags.
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 2;

    // Options.
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;

    // Option reply types.
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_TLS_REQD = 0x80000005;
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    public static final int REP_ERR_SHUTDOWN = 0x80000007;
    public static final int REP_ERR_BLOCK_SIZE_REQD = 0x80000008;
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    // Info types (NBD_OPT_INFO / NBD_OPT_GO).
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // Transmission flags.
    public static final int FLAG_HAS_FLAGS = 1;
    public static final int FLAG_READ_ONLY = 1 << 1;
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    public static final int FLAG_SEND_FUA = 1 << 3;
    public static final int FLAG_SEND_TRIM = 1 << 5;
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int FLAG_SEND_DF = 1 << 7;
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;
    public static final int FLAG_SEND_CACHE = 1 << 10;
    public static final int FLAG_SEND_FAST_ZERO = 1 << 11;

    // Commands.
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    // Command flags.
    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;

    // Structured reply chunk types and flags.
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_ERROR = 32769;
    public static final int REPLY_TYPE_ERROR_OFFSET = 32770;

    // base:allocation states.
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 2;

    /** The one metadata context we serve, and the id we give it (QEMU uses 0 as well). */
    public static final String META_BASE_ALLOCATION = "base:allocation";
    public static final int META_ID_BASE_ALLOCATION = 0;

    /** Largest READ or WRITE payload (QEMU's NBD_MAX_BUFFER_SIZE). */
    public static final int MAX_BUFFER_SIZE = 32 << 20;
    /** Largest name or query string (QEMU's NBD_MAX_STRING_SIZE). */
    public static final int MAX_STRING_SIZE = 4096;
    /**
     * Largest option payload we read; anything bigger, up to {@link #MAX_BUFFER_SIZE}, is skipped
     * with ERR_TOO_BIG, and beyond that the client is dropped (QEMU 7.2 drops it too).
     */
    public static final int MAX_OPTION_SIZE = 64 << 10;

    // NBD error values on the wire.
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    /** A name for an option number, for error messages. */
    public static String optionName(int opt) {
        return switch (opt) {
            case OPT_EXPORT_NAME -> "export name";
            case OPT_ABORT -> "abort";
            case OPT_LIST -> "list";
            case OPT_STARTTLS -> "starttls";
            case OPT_INFO -> "info";
            case OPT_GO -> "go";
            case OPT_STRUCTURED_REPLY -> "structured reply";
            case OPT_LIST_META_CONTEXT -> "list meta context";
            case OPT_SET_META_CONTEXT -> "set meta context";
            default -> "<unknown>";
        };
    }
}
