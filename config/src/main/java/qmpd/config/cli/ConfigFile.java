package qmpd.config.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import qmpd.config.keyval.InputVisitor;
import qmpd.config.keyval.KeyvalException;
import qmpd.config.keyval.Schema;

/**
 * Reads {@code --config FILE}: a YAML or JSON document that declares what a command line
 * would, as lists of the same trees the options' JSON form takes, e.g.
 * <pre>
 * chardevs:   [{id: qmp0, backend: socket, path: /run/qmpd.sock, server: true, wait: false}]
 * monitors:   [{chardev: qmp0}]
 * http:       {host: 127.0.0.1, port: 8080}
 * objects:    [{qom-type: iothread, id: io0}]
 * blockdevs:  [{driver: null-co, node-name: disk0, size: 1073741824}]
 * nbd-server: {addr: {type: unix, path: /run/nbd.sock}}
 * exports:    [{type: nbd, id: e0, node-name: disk0, iothread: io0}]
 * </pre>
 * Sections are applied in that order. Entries are validated by the same schemas as the
 * options' JSON form (values are typed: {@code size: 1G} is an error, as in QMP), and
 * chardevs take the --chardev option names. Errors name the file and the path in it
 * ({@code Invalid parameter type for 'blockdevs[1].size', expected: integer}).
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigFile {
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** One section: its key, its schema, whether it is a list, and the option it makes. */
    private record Section(String key, Schema.Type type, boolean list,
                           BiFunction<ObjectNode, String, CliOption> make) {}

    private static final List<Section> SECTIONS = List.of(
            new Section("chardevs", null, true, CliOption.ChardevOpt::new),
            new Section("monitors", OptionSchemas.MONITOR, true, CliOption.MonitorOpt::new),
            new Section("http", OptionSchemas.HTTP, false, CliOption.HttpOpt::new),
            new Section("objects", OptionSchemas.OBJECT, true, CliOption.ObjectOpt::new),
            new Section("blockdevs", OptionSchemas.BLOCKDEV, true, CliOption.BlockdevOpt::new),
            new Section("nbd-server", OptionSchemas.NBD_SERVER, false, CliOption.NbdServerOpt::new),
            new Section("exports", OptionSchemas.EXPORT, true, CliOption.ExportOpt::new));

    private static final Schema.Struct TOP = new Schema.Struct("ConfigFile", SECTIONS.stream()
            .map(s -> Schema.opt(s.key, s.list ? Schema.listOf(Schema.ANY) : Schema.ANY)).toList());

    private ConfigFile() {}

    /** Reads and validates {@code file}; JSON if its name ends in .json, else YAML. */
    public static List<CliOption> load(Path file) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new CliException(null, "Could not open '" + name + "': No such file or directory");
        } catch (AccessDeniedException e) {
            throw new CliException(null, "Could not open '" + name + "': Permission denied");
        } catch (MalformedInputException e) {
            throw new CliException(name, "not valid UTF-8");
        } catch (IOException e) {
            throw new CliException(null, "Could not open '" + name + "': " + e.getMessage());
        }
        return parse(text, name, !name.endsWith(".json"));
    }

    /** Validates a config document; {@code name} is the file name errors give. */
    public static List<CliOption> parse(String text, String name, boolean yaml) {
        JsonNode root;
        try {
            root = (yaml ? YAML : JSON).readTree(text);
        } catch (JacksonException e) {
            JsonLocation l = e.getLocation();
            String where = l != null && l.getLineNr() > 0 ? name + ":" + l.getLineNr() : name;
            String m = e.getOriginalMessage();
            throw new CliException(where, m == null ? "syntax error" : m.lines().findFirst().orElse(m));
        } catch (IOException | RuntimeException e) {
            throw new CliException(name, "cannot be read: " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return List.of();   // an empty document declares nothing
        }
        if (!root.isObject()) {
            throw new CliException(name, "expected an object of sections ("
                    + String.join(", ", SECTIONS.stream().map(Section::key).toList()) + ")");
        }
        try {
            InputVisitor.visit(TOP, root, InputVisitor.Mode.JSON, null);
        } catch (KeyvalException e) {
            throw new CliException(name, e.getMessage());
        }
        List<CliOption> out = new ArrayList<>();
        for (Section s : SECTIONS) {
            JsonNode node = root.get(s.key);
            if (node == null) {
                continue;
            }
            if (!s.list) {
                out.add(entry(s, node, s.key, name));
                continue;
            }
            for (int i = 0; i < node.size(); i++) {
                out.add(entry(s, node.get(i), s.key + "[" + i + "]", name));
            }
        }
        return out;
    }

    private static CliOption entry(Section s, JsonNode node, String path, String file) {
        try {
            ObjectNode args = s.type == null
                    ? ChardevParser.fromMap(chardevOptions(node, path))
                    : (ObjectNode) InputVisitor.visit(s.type, node, InputVisitor.Mode.JSON, path);
            return s.make.apply(args, file + ": " + path);
        } catch (KeyvalException e) {
            throw new CliException(file, named(path, e.getMessage()));
        } catch (CliException e) {
            throw new CliException(file, named(path, e.reason()));
        }
    }

    /** Prefixes a message that does not name the entry (a semantic check) with its path. */
    private static String named(String path, String message) {
        return message.contains("'" + path) ? message : path + ": " + message;
    }

    /** A chardev entry's scalars as the strings --chardev would have given. */
    private static Map<String, String> chardevOptions(JsonNode node, String path) {
        if (!node.isObject()) {
            throw new KeyvalException("Invalid parameter type for '" + path + "', expected: object");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isBoolean()) {
                m.put(e.getKey(), v.booleanValue() ? "on" : "off");
            } else if (v.isTextual() || v.isNumber()) {
                m.put(e.getKey(), v.asText());
            } else {
                throw new KeyvalException("Invalid parameter type for '" + path + "." + e.getKey()
                        + "', expected: string");
            }
        }
        return m;
    }
}
