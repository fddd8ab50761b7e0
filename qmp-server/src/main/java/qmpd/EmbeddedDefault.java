package qmpd;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What {@code bin/qmpd} starts without arguments: IOThread {@code io0}, a 1 GiB sparse disk file
 * exported writable over NBD as {@code disk0} (served in io0), and a QMP monitor, all on UNIX
 * sockets in a private runtime directory. It is an ordinary command line, so it goes through
 * exactly the path a user's options take.
 */
final class EmbeddedDefault {
    static final long DISK_SIZE = 1L << 30;

    private EmbeddedDefault() {
    }

    /** {@code $XDG_RUNTIME_DIR/qmpd}, else {@code /tmp/qmpd-<user>}; override with QMPD_RUNTIME_DIR. */
    static Path runtimeDir() {
        String explicit = System.getenv("QMPD_RUNTIME_DIR");
        if (explicit != null && !explicit.isEmpty()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "qmpd");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "qmpd-" + System.getProperty("user.name"));
    }

    static Path qmpSocket() {
        return runtimeDir().resolve("qmp.sock");
    }

    static Path nbdSocket() {
        return runtimeDir().resolve("nbd.sock");
    }

    static Path disk() {
        return runtimeDir().resolve("disk0.img");
    }

    /** 9180, or QMPD_HTTP_PORT (0 picks a free port). */
    static int httpPort() {
        String p = System.getenv("QMPD_HTTP_PORT");
        return p == null || p.isEmpty() ? 9180 : Integer.parseInt(p);
    }

    static String[] argv() {
        return new String[] {
            "--object", "iothread,id=io0",
            "--blockdev", "driver=file,node-name=disk0-file,filename=" + disk().toString().replace(",", ",,"),
            "--blockdev", "driver=raw,node-name=disk0,file=disk0-file",
            "--nbd-server", "addr.type=unix,addr.path=" + nbdSocket().toString().replace(",", ",,"),
            "--export", "type=nbd,id=disk0,node-name=disk0,name=disk0,writable=on,iothread=io0",
            "--chardev", "socket,id=qmp0,server=on,wait=off,path=" + qmpSocket().toString().replace(",", ",,"),
            "--monitor", "chardev=qmp0",
            "--http", "host=127.0.0.1,port=" + httpPort(),
        };
    }

    /** Creates the runtime directory (owner only) and the sparse disk if it does not exist yet. */
    static void prepare() throws IOException {
        Path dir = runtimeDir();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (!Files.exists(disk())) {
            try (RandomAccessFile f = new RandomAccessFile(disk().toFile(), "rw")) {
                f.setLength(DISK_SIZE);   // sparse: no block is written
            }
        }
    }

    static void printEndpoints(PrintStream out, int port) {
        out.println("qmpd is running (Ctrl-C stops it).");
        out.println("  QMP monitor : " + qmpSocket());
        out.println("      try     : (printf '{\"execute\": \"qmp_capabilities\"}\\n{\"execute\": \"query-iothreads\"}\\n'; sleep 1)"
                + " | socat - UNIX-CONNECT:" + qmpSocket());
        out.println("  HTTP        : http://127.0.0.1:" + port);
        out.println("      try     : curl -s -X POST http://127.0.0.1:" + port
                + "/api/v1/qmp -d '{\"execute\": \"query-block-exports\"}'");
        out.println("                curl -s http://127.0.0.1:" + port + "/metrics | grep qmpd_");
        out.println("  NBD export  : disk0 (1 GiB, writable, served in iothread io0)");
        out.println("      try     : qemu-img info 'nbd+unix:///disk0?socket=" + nbdSocket() + "'");
        out.println("                nbdinfo 'nbd+unix:///disk0?socket=" + nbdSocket() + "'");
        out.println("  disk file   : " + disk());
        out.flush();
    }
}
