package qmpd.config.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import qmpd.config.keyval.InputVisitor;
import qmpd.config.keyval.KeyvalException;
import qmpd.config.keyval.KeyvalParser;
import qmpd.config.keyval.Schema;

/**
 * Parses qmpd's command line, which is qemu-storage-daemon's plus a few options of its own,
 * the way qemu-storage-daemon 7.2 does (storage-daemon/qemu-storage-daemon.c):
 * <ol>
 *   <li>a first pass with glibc getopt_long rules: {@code --opt value}, {@code --opt=value},
 *       unambiguous abbreviations ({@code --blockd}), clustered short options ({@code -hV},
 *       {@code -Tfoo}); a getopt error, {@code -h} or {@code -V} ends the parse there;
 *       {@code --} ends the options and what follows is ignored, as in 7.2;</li>
 *   <li>a second pass that checks every option's argument in the order given and stops at
 *       the first error, which names the option as it was written.</li>
 * </ol>
 * The result lists the options in command line order; {@code --config FILE} is replaced by
 * the options the file declares. The server should handle {@link CliOption.Daemonize} and
 * {@link CliOption.PidfileOpt} first (QEMU does, in the first pass), then apply the rest in
 * order, each through the code its QMP command uses.
 *
 * <p>Stateless and thread-safe.
 */
public final class CommandLine {
    /** The name errors and help use. */
    public static final String PROGRAM = "qmpd";

    /** What the command line asks for. */
    public sealed interface Outcome permits Run, Exit {}

    /**
     * Run the daemon with these options, in order. Each warning is to be printed on stderr
     * as {@code qmpd: <warning>} before the options are applied.
     */
    public record Run(List<CliOption> options, List<String> warnings) implements Outcome {
        public Run {
            options = List.copyOf(options);
            warnings = List.copyOf(warnings);
        }
    }

    /** Print {@code stdout} and exit with status 0: help, version or an option's help. */
    public record Exit(String stdout) implements Outcome {}

    private enum Opt {
        BLOCKDEV("blockdev", true), CHARDEV("chardev", true), CONFIG("config", true),
        DAEMONIZE("daemonize", false), EXPORT("export", true), HELP("help", false), HTTP("http", true),
        MONITOR("monitor", true), NBD_SERVER("nbd-server", true), OBJECT("object", true),
        PIDFILE("pidfile", true), STATE_FILE("state-file", true), TRACE("trace", true),
        VERSION("version", false),
        UNEXPECTED(null, false);   // a non-option argument

        final String longName;
        final boolean hasArg;

        Opt(String longName, boolean hasArg) {
            this.longName = longName;
            this.hasArg = hasArg;
        }
    }

    /** An option as the first pass found it, with the words that make up its location. */
    private record Raw(Opt opt, String arg, String location) {}

    private CommandLine() {}

    /**
     * Parses {@code argv} (without the program name).
     *
     * @throws CliException the first error, worded as qemu-storage-daemon 7.2 words it
     */
    public static Outcome parse(String... argv) {
        Objects.requireNonNull(argv, "argv");
        List<Raw> raws = new ArrayList<>();
        Outcome early = firstPass(argv, raws);
        if (early != null) {
            return early;
        }
        List<CliOption> options = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (Raw r : raws) {
            Outcome help = secondPass(r, options, warnings);
            if (help != null) {
                return help;
            }
        }
        return new Run(options, warnings);
    }

    // ---- first pass: getopt_long ----

    private static Outcome firstPass(String[] argv, List<Raw> raws) {
        for (int i = 0; i < argv.length; i++) {
            String a = Objects.requireNonNull(argv[i], "argv element");
            if (a.equals("--")) {
                break;
            }
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = a.substring(2, eq < 0 ? a.length() : eq);
                Opt o = findLong(name, a);
                String arg = null;
                String location = a;
                if (o.hasArg) {
                    if (eq >= 0) {
                        arg = a.substring(eq + 1);
                    } else if (i + 1 < argv.length) {
                        arg = Objects.requireNonNull(argv[++i], "argv element");
                        location = a + " " + arg;
                    } else {
                        throw new CliException(null, "option '--" + o.longName + "' requires an argument");
                    }
                } else if (eq >= 0) {
                    throw new CliException(null, "option '--" + o.longName + "' doesn't allow an argument");
                }
                Outcome exit = record(raws, new Raw(o, arg, location));
                if (exit != null) {
                    return exit;
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                for (int j = 1; j < a.length(); j++) {
                    char c = a.charAt(j);
                    Outcome exit;
                    switch (c) {
                        case 'h' -> exit = record(raws, new Raw(Opt.HELP, null, a));
                        case 'V' -> exit = record(raws, new Raw(Opt.VERSION, null, a));
                        case 'T' -> {
                            String arg;
                            String location = a;
                            if (j + 1 < a.length()) {
                                arg = a.substring(j + 1);
                            } else if (i + 1 < argv.length) {
                                arg = Objects.requireNonNull(argv[++i], "argv element");
                                location = a + " " + arg;
                            } else {
                                throw new CliException(null, "option requires an argument -- 'T'");
                            }
                            exit = record(raws, new Raw(Opt.TRACE, arg, location));
                            j = a.length();
                        }
                        default -> throw new CliException(null, "invalid option -- '" + c + "'");
                    }
                    if (exit != null) {
                        return exit;
                    }
                }
            } else {
                raws.add(new Raw(Opt.UNEXPECTED, null, a));
            }
        }
        return null;
    }

    /** Records an option; -h and -V end the parse at once, as in QEMU's first pass. */
    private static Outcome record(List<Raw> raws, Raw r) {
        return switch (r.opt) {
            case HELP -> new Exit(HelpText.usage());
            case VERSION -> new Exit(HelpText.version());
            default -> {
                raws.add(r);
                yield null;
            }
        };
    }

    /** getopt_long's matching: an exact name, else a unique prefix. */
    private static Opt findLong(String name, String arg) {
        List<Opt> candidates = new ArrayList<>();
        for (Opt o : Opt.values()) {
            if (o.longName == null) {
                continue;
            }
            if (o.longName.equals(name)) {
                return o;
            }
            if (!name.isEmpty() && o.longName.startsWith(name)) {
                candidates.add(o);
            }
        }
        if (candidates.size() == 1) {
            return candidates.getFirst();
        }
        if (candidates.isEmpty()) {
            throw new CliException(null, "unrecognized option '" + arg + "'");
        }
        StringBuilder sb = new StringBuilder("option '" + arg + "' is ambiguous; possibilities:");
        candidates.forEach(o -> sb.append(" '--").append(o.longName).append('\''));
        throw new CliException(null, sb.toString());
    }

    // ---- second pass: the options' arguments, in order ----

    private static Outcome secondPass(Raw r, List<CliOption> options, List<String> warnings) {
        String loc = r.location;
        try {
            switch (r.opt) {
                case BLOCKDEV -> options.add(new CliOption.BlockdevOpt(
                        OptionParser.parse(r.arg, "driver", OptionSchemas.BLOCKDEV), loc));
                case EXPORT -> options.add(new CliOption.ExportOpt(
                        OptionParser.parse(r.arg, "type", OptionSchemas.EXPORT), loc));
                case MONITOR -> options.add(new CliOption.MonitorOpt(
                        OptionParser.parse(r.arg, "chardev", OptionSchemas.MONITOR), loc));
                case NBD_SERVER -> options.add(new CliOption.NbdServerOpt(
                        OptionParser.parse(r.arg, null, OptionSchemas.NBD_SERVER), loc));
                case HTTP -> options.add(new CliOption.HttpOpt(
                        OptionParser.parse(r.arg, null, OptionSchemas.HTTP), loc));
                case OBJECT -> {
                    return object(r.arg, loc, options);
                }
                case CHARDEV -> {
                    ChardevParser.Result c = ChardevParser.parse(r.arg);
                    c.warnings().forEach(w -> warnings.add(loc + ": warning: " + w));
                    if (c.help() != null) {
                        return new Exit(c.help());
                    }
                    options.add(new CliOption.ChardevOpt(c.args(), loc));
                }
                case CONFIG -> options.addAll(ConfigFile.load(path(r.arg)));
                case TRACE -> options.add(new CliOption.TraceOpt(r.arg, loc));
                case PIDFILE -> options.add(new CliOption.PidfileOpt(path(r.arg), loc));
                case STATE_FILE -> options.add(new CliOption.StateFileOpt(path(r.arg), loc));
                case DAEMONIZE -> options.add(new CliOption.Daemonize(loc));
                case UNEXPECTED -> throw new CliException(loc, "Unexpected argument");
                case HELP, VERSION -> throw new IllegalStateException("handled in the first pass");
            }
        } catch (KeyvalException e) {
            throw new CliException(loc, e.getMessage());
        } catch (CliException e) {
            throw e.location() != null ? e : new CliException(loc, e.reason());
        }
        return null;
    }

    /** --object: keyval with help, as QEMU's user_creatable_print_help(), or JSON. */
    private static Outcome object(String arg, String loc, List<CliOption> options) {
        ObjectNode args;
        if (arg.startsWith("{")) {
            args = OptionParser.parse(arg, null, OptionSchemas.OBJECT);
        } else {
            KeyvalParser.Result kv = KeyvalParser.parse(arg, "qom-type", true);
            if (kv.helpRequested()) {
                return new Exit(HelpText.objectHelp(kv.tree().path("qom-type").asText(null)));
            }
            args = InputVisitor.visitObject(OptionSchemas.OBJECT, kv.tree(), InputVisitor.Mode.KEYVAL);
        }
        options.add(new CliOption.ObjectOpt(args, loc));
        return null;
    }

    private static Path path(String s) {
        try {
            return Path.of(s);
        } catch (java.nio.file.InvalidPathException e) {
            throw new CliException(null, "Invalid path '" + s + "'");
        }
    }

    /** The type names QEMU's property help shows. */
    static String typeName(Schema.Type t) {
        return switch (t) {
            case Schema.Int i -> "int";
            case Schema.Bool b -> "bool";
            case Schema.Size s -> "size";
            default -> "string";
        };
    }

    /** The help texts; kept apart so that the parser above reads as getopt does. */
    static final class HelpText {
        private HelpText() {}

        static String version() {
            String v = CommandLine.class.getPackage().getImplementationVersion();
            return PROGRAM + " version " + (v != null ? v : "0.1.0") + "\n"
                    + "Accepts qemu-storage-daemon 7.2 command lines\n";
        }

        static String objectHelp(String qomType) {
            List<Schema.Field> props = qomType == null ? null : OptionSchemas.OBJECT_TYPES.get(qomType);
            if (props == null) {
                StringBuilder sb = new StringBuilder("List of user creatable objects:\n");
                OptionSchemas.OBJECT_TYPES.keySet().forEach(t -> sb.append("  ").append(t).append('\n'));
                return sb.toString();
            }
            Map<String, String> sorted = new TreeMap<>();
            props.forEach(f -> sorted.put(f.name(), typeName(f.type())));
            StringBuilder sb = new StringBuilder(qomType + " options:\n");
            sorted.forEach((k, t) -> sb.append("  ").append(k).append("=<").append(t).append(">\n"));
            return sb.toString();
        }

        static String usage() {
            return """
                    Usage: qmpd [options]
                    QMP storage daemon (accepts qemu-storage-daemon command lines)

                      -h, --help             display this help and exit
                      -T, --trace [[enable=]<pattern>][,events=<file>][,file=<file>]
                                             accepted for compatibility; qmpd has no trace events
                      -V, --version          output version information and exit

                      --blockdev [driver=]<driver>[,node-name=<N>][,discard=ignore|unmap]
                                 [,cache.direct=on|off][,cache.no-flush=on|off]
                                 [,read-only=on|off][,auto-read-only=on|off]
                                 [,force-share=on|off][,detect-zeroes=on|off|unmap]
                                 [,driver specific parameters...]
                                             configure a block backend
                                             (drivers: file, raw, null-co, null-aio, blkdebug)

                      --chardev <options>    configure a character device backend
                                             (backends: socket, stdio)

                      --daemonize            daemonize the process, and have the parent exit
                                             once startup is complete

                      --export [type=]nbd,id=<id>,node-name=<node-name>[,name=<export-name>]
                               [,writable=on|off][,bitmaps.0=<name>...]
                                             export the specified block node over NBD
                                             (requires --nbd-server)

                      --monitor [chardev=]name[,mode=control][,pretty[=on|off]]
                                             configure a QMP monitor

                      --nbd-server addr.type=inet,addr.host=<host>,addr.port=<port>
                                   [,tls-creds=<id>][,tls-authz=<id>][,max-connections=<n>]
                      --nbd-server addr.type=unix,addr.path=<path>
                                   [,tls-creds=<id>][,tls-authz=<id>][,max-connections=<n>]
                                             start an NBD server for exporting block nodes

                      --object help          list object types that can be added
                      --object <type>,help   list properties for the given object type
                      --object <type>[,<property>=<value>...]
                                             create a new object of type <type>, setting
                                             properties in the order they are specified. Note
                                             that the 'id' property must be set.

                      --pidfile <path>       write process ID to a file after startup

                    qmpd's own options:
                      --config <file>        apply the chardevs, monitors, HTTP listener, objects,
                                             block devices, NBD server and exports that a YAML or
                                             JSON file declares, at this point of the command line
                      --http [host=<host>,]port=<port>[,token-file=<file>]
                             [,tls-cert=<pem>,tls-key=<pem>]
                                             serve the REST API and /metrics over HTTP
                                             (HTTPS only, with a certificate and key)
                      --state-file <path>    keep qmpd's state in <path>

                    Every option that takes key=value pairs also takes a JSON object:
                      --blockdev '{"driver": "null-co", "node-name": "n0"}'
                    """;
        }
    }
}
