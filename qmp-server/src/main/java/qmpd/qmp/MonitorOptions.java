package qmpd.qmp;

import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Per-monitor settings.
 *
 * @param pretty print replies indented over several lines ({@code --monitor ...,pretty=on})
 * @param socketPermissions permissions of a UNIX socket file; owner-only by default
 */
public record MonitorOptions(boolean pretty, Set<PosixFilePermission> socketPermissions) {
    public MonitorOptions {
        socketPermissions = Set.copyOf(socketPermissions);
    }

    /** Compact output, socket readable and writable by the owner only. */
    public static MonitorOptions defaults() {
        return new MonitorOptions(false, PosixFilePermissions.fromString("rw-------"));
    }

    /** The same with {@code pretty} changed. */
    public MonitorOptions withPretty(boolean on) {
        return new MonitorOptions(on, socketPermissions);
    }
}
