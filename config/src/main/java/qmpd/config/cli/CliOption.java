package qmpd.config.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * One validated command line (or config file) option, in the order given. Options that
 * carry a tree hold it already checked against its schema and typed: {@code args} is exactly
 * what the matching QMP command takes ({@code blockdev-add}, {@code object-add},
 * {@code block-export-add}, {@code chardev-add}), so the server applies both the same way.
 * {@code source} names where the option came from, for error messages
 * ({@code --blockdev driver=null-co} or {@code qmpd.yaml: blockdevs[1]}).
 */
public sealed interface CliOption {
    String source();

    /** {@code --object}: object-add arguments ({@code qom-type}, {@code id}, properties). */
    record ObjectOpt(ObjectNode args, String source) implements CliOption {
        public String qomType() {
            return args.get("qom-type").asText();
        }

        public String id() {
            return args.get("id").asText();
        }
    }

    /** {@code --blockdev}: blockdev-add arguments. */
    record BlockdevOpt(ObjectNode args, String source) implements CliOption {}

    /** {@code --export}: block-export-add arguments. */
    record ExportOpt(ObjectNode args, String source) implements CliOption {}

    /** {@code --nbd-server}: NbdServerOptions ({@code addr} is a flat SocketAddress). */
    record NbdServerOpt(ObjectNode args, String source) implements CliOption {}

    /** {@code --chardev}: chardev-add arguments ({@code id}, {@code backend: {type, data}}). */
    record ChardevOpt(ObjectNode args, String source) implements CliOption {
        public String id() {
            return args.get("id").asText();
        }
    }

    /** {@code --monitor}: MonitorOptions ({@code chardev}, {@code mode}, {@code pretty}, {@code id}). */
    record MonitorOpt(ObjectNode args, String source) implements CliOption {}

    /** {@code --http}: qmpd's REST and metrics listener ({@code host}, {@code port}, {@code token-file}, {@code tls-cert}, {@code tls-key}). */
    record HttpOpt(ObjectNode args, String source) implements CliOption {}

    /** {@code -T/--trace}: accepted for compatibility; qmpd has no trace events. */
    record TraceOpt(String spec, String source) implements CliOption {}

    /** {@code --pidfile}: QEMU handles it before any other option; so should the server. */
    record PidfileOpt(Path path, String source) implements CliOption {}

    /** {@code --daemonize}: QEMU handles it before any other option; so should the server. */
    record Daemonize(String source) implements CliOption {}

    /** {@code --state-file}: where qmpd keeps the state it restores on restart. */
    record StateFileOpt(Path path, String source) implements CliOption {}
}
