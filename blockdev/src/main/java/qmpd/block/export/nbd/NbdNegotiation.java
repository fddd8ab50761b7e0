package qmpd.block.export.nbd;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The handshake phase of one NBD connection (fixed newstyle), as a state machine fed with whatever
 * bytes have arrived: it consumes whole messages only, queues its answers in {@link #output()}, and
 * says when transmission may begin or the connection must close. No I/O and no threads here: the
 * connection drives it (nbdkit's protocol-handshake-newstyle.c, QEMU's nbd_negotiate*).
 */
public final class NbdNegotiation {

    /** What {@link #feed} found. */
    public enum Progress {
        /** More bytes are needed. */
        NEED_MORE,
        /** An export was chosen: send {@link #output()}, then start transmission. */
        TRANSMISSION,
        /** Send {@link #output()}, then close (abort, unknown export, protocol violation). */
        CLOSE
    }

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, SKIP_DATA }

    private final Function<String, NbdExportInfo> lookup;
    private final Supplier<List<NbdExportInfo>> list;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    private State state = State.CLIENT_FLAGS;
    private int option;
    private int optionLength;
    private long skipRemaining;

    private boolean noZeroes;
    private boolean fixedNewstyle;
    private boolean structured;
    private String metaExport;      // the export SET_META_CONTEXT applied to, or null
    private boolean baseAllocation;
    private NbdExportInfo chosen;
    private String closeReason;

    /**
     * @param lookup finds an export by name (null if none)
     * @param list   every export, for NBD_OPT_LIST
     */
    public NbdNegotiation(Function<String, NbdExportInfo> lookup, Supplier<List<NbdExportInfo>> list) {
        this.lookup = lookup;
        this.list = list;
        ByteBuffer b = ByteBuffer.allocate(18);
        b.putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        out.write(b.array(), 0, 18);
    }

    /** Takes the bytes queued for the client so far. */
    public byte[] output() {
        byte[] b = out.toByteArray();
        out.reset();
        return b;
    }

    public NbdExportInfo export() {
        return chosen;
    }

    public boolean structuredReplies() {
        return structured;
    }

    /** Whether base:allocation was selected for the chosen export. */
    public boolean baseAllocation() {
        return baseAllocation && chosen != null && chosen.name().equals(metaExport);
    }

    /** Why the handshake ended without transmission (for logs), or null. */
    public String closeReason() {
        return closeReason;
    }

    /** Consumes whole messages from {@code in} (flipped, big-endian). */
    public Progress feed(ByteBuffer in) {
        while (true) {
            switch (state) {
                case CLIENT_FLAGS -> {
                    if (in.remaining() < 4) {
                        return Progress.NEED_MORE;
                    }
                    int flags = in.getInt();
                    if ((flags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) {
                        return close(String.format("Unknown client flags 0x%x received", flags));
                    }
                    fixedNewstyle = (flags & Nbd.FLAG_FIXED_NEWSTYLE) != 0;
                    noZeroes = (flags & Nbd.FLAG_NO_ZEROES) != 0;
                    state = State.OPTION_HEADER;
                }
                case OPTION_HEADER -> {
                    if (in.remaining() < 16) {
                        return Progress.NEED_MORE;
                    }
                    long magic = in.getLong();
                    if (magic != Nbd.IHAVEOPT) {
                        return close("Bad option magic");
                    }
                    option = in.getInt();
                    optionLength = in.getInt();
                    long len = Integer.toUnsignedLong(optionLength);
                    if (len > Nbd.MAX_BUFFER_SIZE) {
                        // QEMU 7.2 will not even skip that much: it drops the client.
                        return close("option length " + len + " is larger than max len " + Nbd.MAX_BUFFER_SIZE);
                    }
                    if (len > Nbd.MAX_OPTION_SIZE) {
                        if (option == Nbd.OPT_EXPORT_NAME) {
                            return close("export name too long");
                        }
                        reply(option, Nbd.REP_ERR_TOO_BIG, "option '" + Nbd.optionName(option) + "' is too long");
                        skipRemaining = len;
                        state = State.SKIP_DATA;
                    } else {
                        state = State.OPTION_DATA;
                    }
                }
                case SKIP_DATA -> {
                    int n = (int) Math.min(skipRemaining, in.remaining());
                    in.position(in.position() + n);
                    skipRemaining -= n;
                    if (skipRemaining > 0) {
                        return Progress.NEED_MORE;
                    }
                    state = State.OPTION_HEADER;
                }
                case OPTION_DATA -> {
                    if (in.remaining() < optionLength) {
                        return Progress.NEED_MORE;
                    }
                    ByteBuffer data = in.slice(in.position(), optionLength);
                    in.position(in.position() + optionLength);
                    state = State.OPTION_HEADER;
                    Progress p = handleOption(option, data);
                    if (p != Progress.NEED_MORE) {
                        return p;
                    }
                }
            }
        }
    }

    private Progress close(String reason) {
        closeReason = reason;
        return Progress.CLOSE;
    }

    private Progress handleOption(int opt, ByteBuffer data) {
        switch (opt) {
            case Nbd.OPT_EXPORT_NAME -> {
                String name = StandardCharsets.UTF_8.decode(data).toString();
                NbdExportInfo exp = lookup.apply(name);
                if (exp == null) {
                    return close("export '" + name + "' not present");
                }
                chosen = exp;
                ByteBuffer b = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                b.putLong(exp.size()).putShort((short) flags(exp));
                out.write(b.array(), 0, b.capacity());
                return Progress.TRANSMISSION;
            }
            case Nbd.OPT_ABORT -> {
                reply(opt, Nbd.REP_ACK, new byte[0]);
                return close("client aborted the handshake");
            }
            case Nbd.OPT_LIST -> {
                if (data.hasRemaining()) {
                    reply(opt, Nbd.REP_ERR_INVALID, "option '" + Nbd.optionName(opt) + "' has unexpected length");
                    return Progress.NEED_MORE;
                }
                for (NbdExportInfo e : list.get()) {
                    byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                    byte[] desc = e.description() == null ? new byte[0] : e.description().getBytes(StandardCharsets.UTF_8);
                    ByteBuffer b = ByteBuffer.allocate(4 + name.length + desc.length);
                    b.putInt(name.length).put(name).put(desc);
                    reply(opt, Nbd.REP_SERVER, b.array());
                }
                reply(opt, Nbd.REP_ACK, new byte[0]);
                return Progress.NEED_MORE;
            }
            case Nbd.OPT_STARTTLS -> {
                reply(opt, Nbd.REP_ERR_POLICY, "TLS not configured");
                return Progress.NEED_MORE;
            }
            case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                return infoOrGo(opt, data);
            }
            case Nbd.OPT_STRUCTURED_REPLY -> {
                if (data.hasRemaining()) {
                    reply(opt, Nbd.REP_ERR_INVALID, "option '" + Nbd.optionName(opt) + "' has unexpected length");
                } else if (structured) {
                    reply(opt, Nbd.REP_ERR_INVALID, "structured reply already negotiated");
                } else {
                    structured = true;
                    reply(opt, Nbd.REP_ACK, new byte[0]);
                }
                return Progress.NEED_MORE;
            }
            case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> {
                metaContext(opt, data);
                return Progress.NEED_MORE;
            }
            default -> {
                if (!fixedNewstyle) {
                    return close("unsupported option " + opt + " without fixed newstyle");
                }
                reply(opt, Nbd.REP_ERR_UNSUP, "Unsupported option " + opt + " (" + Nbd.optionName(opt) + ")");
                return Progress.NEED_MORE;
            }
        }
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: u32 name length, name, u16 count, u16 info requests. */
    private Progress infoOrGo(int opt, ByteBuffer data) {
        String what = Nbd.optionName(opt);
        if (data.remaining() < 4) {
            reply(opt, Nbd.REP_ERR_INVALID, "request data too short for " + what);
            return Progress.NEED_MORE;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > Nbd.MAX_STRING_SIZE || nameLen > data.remaining() - 2L) {
            reply(opt, Nbd.REP_ERR_INVALID, "name length is incorrect");
            return Progress.NEED_MORE;
        }
        byte[] nameBytes = new byte[(int) nameLen];
        data.get(nameBytes);
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != count * 2) {
            reply(opt, Nbd.REP_ERR_INVALID, "Inconsistent lengths in option " + what);
            return Progress.NEED_MORE;
        }
        boolean wantName = false;
        boolean wantDesc = false;
        boolean wantBlockSize = false;
        for (int i = 0; i < count; i++) {
            switch (Short.toUnsignedInt(data.getShort())) {
                case Nbd.INFO_NAME -> wantName = true;
                case Nbd.INFO_DESCRIPTION -> wantDesc = true;
                case Nbd.INFO_BLOCK_SIZE -> wantBlockSize = true;
                default -> {
                    // Unknown or INFO_EXPORT requests are ignored, as the protocol asks.
                }
            }
        }
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        NbdExportInfo exp = lookup.apply(name);
        if (exp == null) {
            reply(opt, Nbd.REP_ERR_UNKNOWN, "export '" + name + "' not present");
            return Progress.NEED_MORE;
        }
        if (wantName) {
            ByteBuffer b = ByteBuffer.allocate(2 + nameBytes.length).putShort((short) Nbd.INFO_NAME).put(nameBytes);
            reply(opt, Nbd.REP_INFO, b.array());
        }
        if (wantDesc && exp.description() != null) {
            byte[] d = exp.description().getBytes(StandardCharsets.UTF_8);
            reply(opt, Nbd.REP_INFO, ByteBuffer.allocate(2 + d.length).putShort((short) Nbd.INFO_DESCRIPTION).put(d).array());
        }
        int minimum = wantBlockSize ? Math.max(1, exp.minimumBlockSize()) : 1;
        ByteBuffer bs = ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE)
                .putInt(minimum).putInt(Math.max(4096, minimum)).putInt(Nbd.MAX_BUFFER_SIZE);
        reply(opt, Nbd.REP_INFO, bs.array());
        ByteBuffer ex = ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT)
                .putLong(exp.size()).putShort((short) flags(exp));
        reply(opt, Nbd.REP_INFO, ex.array());
        if (opt == Nbd.OPT_GO && !wantBlockSize && exp.minimumBlockSize() > 1) {
            reply(opt, Nbd.REP_ERR_BLOCK_SIZE_REQD, "request NBD_INFO_BLOCK_SIZE to use this export");
            return Progress.NEED_MORE;
        }
        reply(opt, Nbd.REP_ACK, new byte[0]);
        if (opt == Nbd.OPT_GO) {
            chosen = exp;
            return Progress.TRANSMISSION;
        }
        return Progress.NEED_MORE;
    }

    /** LIST/SET_META_CONTEXT: u32 name length, name, u32 query count, queries (u32 length, bytes). */
    private void metaContext(int opt, ByteBuffer data) {
        if (opt == Nbd.OPT_SET_META_CONTEXT && !structured) {
            reply(opt, Nbd.REP_ERR_INVALID, "request option '" + Nbd.optionName(opt)
                    + "' when structured reply is not negotiated");
            return;
        }
        if (data.remaining() < 8) {
            reply(opt, Nbd.REP_ERR_INVALID, "request data too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > Nbd.MAX_STRING_SIZE || nameLen > data.remaining() - 4L) {
            reply(opt, Nbd.REP_ERR_INVALID, "name length is incorrect");
            return;
        }
        byte[] nameBytes = new byte[(int) nameLen];
        data.get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        long queries = Integer.toUnsignedLong(data.getInt());
        boolean match = false;
        for (long i = 0; i < queries; i++) {
            if (data.remaining() < 4) {
                reply(opt, Nbd.REP_ERR_INVALID, "query data too short");
                return;
            }
            long qlen = Integer.toUnsignedLong(data.getInt());
            if (qlen > Nbd.MAX_STRING_SIZE || qlen > data.remaining()) {
                reply(opt, Nbd.REP_ERR_INVALID, "query length is incorrect");
                return;
            }
            byte[] q = new byte[(int) qlen];
            data.get(q);
            String query = new String(q, StandardCharsets.UTF_8);
            if (query.equals(Nbd.META_BASE_ALLOCATION)
                    || (opt == Nbd.OPT_LIST_META_CONTEXT && (query.equals("base:") || query.equals("base")))) {
                match = true;
            }
        }
        if (data.hasRemaining()) {
            reply(opt, Nbd.REP_ERR_INVALID, "unexpected trailing data");
            return;
        }
        if (lookup.apply(name) == null) {
            reply(opt, Nbd.REP_ERR_UNKNOWN, "export '" + name + "' not present");
            return;
        }
        if (opt == Nbd.OPT_LIST_META_CONTEXT && queries == 0) {
            match = true;   // an empty list asks for every context the export has
        }
        if (match) {
            byte[] ctx = Nbd.META_BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            reply(opt, Nbd.REP_META_CONTEXT,
                    ByteBuffer.allocate(4 + ctx.length).putInt(Nbd.META_ID_BASE_ALLOCATION).put(ctx).array());
        }
        if (opt == Nbd.OPT_SET_META_CONTEXT) {
            metaExport = name;
            baseAllocation = match;
        }
        reply(opt, Nbd.REP_ACK, new byte[0]);
    }

    /** DF (don't fragment) only means something with structured replies (QEMU adds it then). */
    private int flags(NbdExportInfo exp) {
        return exp.transmissionFlags() | (structured ? Nbd.FLAG_SEND_DF : 0);
    }

    private void reply(int opt, int type, String message) {
        reply(opt, type, message.getBytes(StandardCharsets.UTF_8));
    }

    private void reply(int opt, int type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(20 + data.length);
        b.putLong(Nbd.OPTION_REPLY_MAGIC).putInt(opt).putInt(type).putInt(data.length).put(data);
        out.write(b.array(), 0, b.capacity());
    }
}
