package qmpd.config.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import qmpd.config.keyval.InputVisitor;

/**
 * Parses {@code --chardev} as qemu-storage-daemon 7.2 does: not with keyval but with the
 * older QemuOpts syntax (util/qemu-option.c, with the implied key {@code backend}), then
 * turns the options into chardev-add arguments (chardev/char.c, char-socket.c, char-stdio.c).
 * QemuOpts differs from keyval: a bare {@code name} means {@code name=on} and {@code noname}
 * means {@code name=off} (both deprecated, with a warning), the implied value may contain
 * {@code ,,}, and keys are not nested.
 *
 * <p>Stateless and thread-safe.
 */
final class ChardevParser {
    /** What a --chardev argument asked for: the chardev-add arguments, or help text. */
    record Result(ObjectNode args, String help, List<String> warnings) {}

    private enum OptType { STR, BOOL, NUM, SIZE }

    /** qemu_chardev_opts: every option a chardev accepts, whatever its backend. */
    private static final Map<String, OptType> DESC = new TreeMap<>();

    static {
        for (String b : List.of("abstract", "append", "clipboard", "delay", "ipv4", "ipv6", "logappend", "mouse",
                "mux", "nodelay", "server", "signal", "telnet", "tight", "tn3270", "wait", "websocket")) {
            DESC.put(b, OptType.BOOL);
        }
        for (String s : List.of("backend", "chardev", "fd", "host", "localaddr", "localport", "logfile", "name",
                "path", "port", "tls-authz", "tls-creds")) {
            DESC.put(s, OptType.STR);
        }
        for (String n : List.of("cols", "debug", "height", "reconnect", "rows", "to", "width")) {
            DESC.put(n, OptType.NUM);
        }
        DESC.put("size", OptType.SIZE);
    }

    /** The backends qmpd implements. */
    static final List<String> BACKENDS = List.of("socket", "stdio");

    private ChardevParser() {}

    /** Parses a --chardev argument. */
    static Result parse(String params) {
        List<String> warnings = new ArrayList<>();
        List<String[]> pairs = split(params, true, warnings);
        Map<String, String> opts = new LinkedHashMap<>();
        String id = parseId(params);
        boolean help = false;
        if (id != null && !OptionSchemas.idWellformed(id)) {
            throw new CliException(null, "Parameter 'id' expects an identifier\n" + OptionSchemas.ID_HINT);
        }
        for (String[] p : pairs) {
            if (p[0].equals("id")) {
                continue;
            }
            if (isHelpOption(p[0])) {
                help = true;
                continue;
            }
            validate(p[0], p[1]);
            opts.remove(p[0]);
            opts.put(p[0], p[1]);   // qemu_opt_get() finds the last one
        }
        String backend = opts.get("backend");
        if (backend != null && isHelpOption(backend)) {
            StringBuilder sb = new StringBuilder("Available chardev backend types: ");
            BACKENDS.forEach(b -> sb.append("\n  ").append(b));
            return new Result(null, sb.append('\n').toString(), warnings);
        }
        if (help) {
            StringBuilder sb = new StringBuilder("chardev options:\n");
            DESC.forEach((k, t) -> sb.append("  ").append(k).append("=<").append(switch (t) {
                case STR -> "str";
                case BOOL -> "bool (on/off)";
                case NUM -> "num";
                case SIZE -> "size";
            }).append(">\n"));
            return new Result(null, sb.toString(), warnings);
        }
        return new Result(toBackend(id, opts), null, warnings);
    }

    /**
     * Builds chardev-add arguments from options given as a map (a config file entry):
     * the same checks as on the command line, without the short forms.
     */
    static ObjectNode fromMap(Map<String, String> given) {
        Map<String, String> opts = new LinkedHashMap<>();
        String id = given.get("id");
        if (id != null && !OptionSchemas.idWellformed(id)) {
            throw new CliException(null, "Parameter 'id' expects an identifier\n" + OptionSchemas.ID_HINT);
        }
        given.forEach((k, v) -> {
            if (!k.equals("id")) {
                validate(k, v);
                opts.put(k, v);
            }
        });
        return toBackend(id, opts);
    }

    /** QEMU's opt_validate(): a known option, with a value of its type. */
    private static void validate(String name, String value) {
        OptType t = DESC.get(name);
        if (t == null) {
            throw new CliException(null, "Invalid parameter '" + name + "'");
        }
        switch (t) {
            case BOOL -> parseBool(name, value);
            case NUM -> {
                if (InputVisitor.strtou64(value) == null) {
                    throw new CliException(null, "Parameter '" + name + "' expects a number");
                }
            }
            case SIZE -> {
                if (InputVisitor.strtosz(value) == null) {
                    throw new CliException(null, "Parameter '" + name + "' expects a non-negative number below 2^64\n"
                            + "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                            + "and exabytes, respectively.");
                }
            }
            case STR -> { }
        }
    }

    private static boolean parseBool(String name, String value) {
        return switch (value) {
            case "on", "yes", "true", "y" -> true;
            case "off", "no", "false", "n" -> false;
            default -> throw new CliException(null, "Parameter '" + name + "' expects 'on' or 'off'");
        };
    }

    /**
     * QemuOpts' opts_parse_id(): the first {@code id=}, found by a scan that knows no implied
     * key (so in {@code socket,,id=c} it finds {@code c}, while the backend is {@code socket,id=c}).
     */
    private static String parseId(String params) {
        for (String[] p : split(params, false, new ArrayList<>())) {
            if (p[0].equals("id")) {
                return p[1];
            }
        }
        return null;
    }

    /**
     * QemuOpts' get_opt_name_value() over the whole string: (name, value) pairs in order.
     * With {@code implied}, a first parameter without '=' is the backend's name.
     */
    private static List<String[]> split(String params, boolean implied, List<String> warnings) {
        List<String[]> out = new ArrayList<>();
        int p = 0;
        boolean first = implied;
        while (p < params.length()) {
            int len = 0;
            while (p + len < params.length() && "=,".indexOf(params.charAt(p + len)) < 0) {
                len++;
            }
            String name;
            StringBuilder value = new StringBuilder();
            if (p + len == params.length() || params.charAt(p + len) != '=') {
                if (first) {
                    name = "backend";                  // implicitly named first option
                    p = readValue(params, p, value);
                } else {
                    name = params.substring(p, p + len);   // a flag
                    p += len;
                    String prefix = "";
                    if (name.startsWith("no")) {
                        name = name.substring(2);
                        value.append("off");
                        prefix = "no";
                    } else {
                        value.append("on");
                    }
                    if (!isHelpOption(name)) {
                        warnings.add("short-form boolean option '" + prefix + name + "' deprecated\n"
                                + (name.equals("delay")
                                        ? "Please use nodelay=" + (prefix.isEmpty() ? "off" : "on") + " instead"
                                        : "Please use " + name + "=" + value + " instead"));
                    }
                }
            } else {
                name = params.substring(p, p + len);
                p = readValue(params, p + len + 1, value);
            }
            if (p < params.length() && params.charAt(p) == ',') {
                p++;
            }
            out.add(new String[] {name, value.toString()});
            first = false;
        }
        return out;
    }

    /** QemuOpts' get_opt_value(): up to a single comma; ",," is a comma. Returns where it stopped. */
    private static int readValue(String s, int p, StringBuilder value) {
        while (p < s.length()) {
            char c = s.charAt(p);
            if (c == ',') {
                if (p + 1 < s.length() && s.charAt(p + 1) == ',') {
                    value.append(',');
                    p += 2;
                    continue;
                }
                break;
            }
            value.append(c);
            p++;
        }
        return p;
    }

    private static boolean isHelpOption(String s) {
        return s.equals("help") || s.equals("?");
    }

    /** chardev/char.c qemu_chr_new_from_opts() and the backends' parse functions. */
    private static ObjectNode toBackend(String id, Map<String, String> opts) {
        if (id == null) {
            throw new CliException(null, "chardev: no id specified");
        }
        String backend = opts.get("backend");
        if (backend == null) {
            throw new CliException(null, "chardev: \"" + id + "\" missing backend");
        }
        if (!BACKENDS.contains(backend)) {
            throw new CliException(null, "'" + backend + "' is not a valid char driver name");
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode data = f.objectNode();
        switch (backend) {
            case "socket" -> parseSocket(opts, data);
            case "stdio" -> {
                parseCommon(opts, data);
                if (opts.containsKey("signal")) {
                    data.put("signal", bool(opts, "signal", true));
                }
            }
            default -> throw new IllegalStateException(backend);
        }
        ObjectNode args = f.objectNode();
        args.put("id", id);
        ObjectNode be = args.putObject("backend");
        be.put("type", backend);
        be.set("data", data);
        return args;
    }

    /** qemu_chr_parse_common(): the log file every backend can have. */
    private static void parseCommon(Map<String, String> opts, ObjectNode data) {
        if (opts.containsKey("logfile")) {
            data.put("logfile", opts.get("logfile"));
        }
        if (opts.containsKey("logappend")) {
            data.put("logappend", bool(opts, "logappend", false));
        }
    }

    /** char-socket.c qemu_chr_parse_socket(), with its defaults (server=off, wait=on). */
    private static void parseSocket(Map<String, String> opts, ObjectNode data) {
        String path = opts.get("path");
        String host = opts.get("host");
        String port = opts.get("port");
        String fd = opts.get("fd");
        int given = (path != null ? 1 : 0) + (host != null ? 1 : 0) + (fd != null ? 1 : 0);
        if (given > 1) {
            throw new CliException(null, "None or one of 'path', 'fd' or 'host' option required.");
        }
        if (host != null && port == null) {
            throw new CliException(null, "chardev: socket: no port given");
        }
        if (given == 0) {
            throw new CliException(null, "Unable to parse FD number ");   // 7.2 reads a missing fd as ""
        }
        parseCommon(opts, data);
        if (opts.containsKey("delay") && opts.containsKey("nodelay")) {
            throw new CliException(null, "'delay' and 'nodelay' are mutually exclusive");
        }
        ObjectNode addr = data.putObject("addr");
        ObjectNode a = JsonNodeFactory.instance.objectNode();
        if (path != null) {
            addr.put("type", "unix");
            a.put("path", path);
            a.put("tight", bool(opts, "tight", true));
            a.put("abstract", bool(opts, "abstract", false));
        } else if (host != null) {
            addr.put("type", "inet");
            a.put("host", host);
            a.put("port", port);
            if (opts.containsKey("to")) {
                a.put("to", InputVisitor.strtou64(opts.get("to")).longValue());
            }
            for (String b : List.of("ipv4", "ipv6")) {
                if (opts.containsKey(b)) {
                    a.put(b, bool(opts, b, false));
                }
            }
        } else {
            addr.put("type", "fd");
            a.put("str", fd);
        }
        addr.set("data", a);
        if (opts.containsKey("delay") || opts.containsKey("nodelay")) {
            data.put("nodelay", !bool(opts, "delay", true) || bool(opts, "nodelay", false));
        }
        boolean server = bool(opts, "server", false);
        data.put("server", server);
        for (String b : List.of("telnet", "tn3270", "websocket")) {
            if (opts.containsKey(b)) {
                data.put(b, bool(opts, b, false));
            }
        }
        if (opts.containsKey("wait") || server) {
            data.put("wait", bool(opts, "wait", true));
        }
        if (opts.containsKey("reconnect")) {
            data.put("reconnect", InputVisitor.strtou64(opts.get("reconnect")).longValue());
        }
        for (String s : List.of("tls-creds", "tls-authz")) {
            if (opts.containsKey(s)) {
                data.put(s, opts.get(s));
            }
        }
    }

    private static boolean bool(Map<String, String> opts, String name, boolean dflt) {
        String v = opts.get(name);
        return v == null ? dflt : parseBool(name, v);
    }
}
