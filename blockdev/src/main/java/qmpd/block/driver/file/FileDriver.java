package qmpd.block.driver.file;

import qmpd.block.BlockDriver;
import qmpd.block.BlockDriverState;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's {@code file} protocol driver with {@code aio=threads}: positional reads and writes of a
 * host file or block device on the node's worker pool (never on an event loop), flush as
 * fdatasync, and {@code cache.direct=on} through O_DIRECT.
 */
public final class FileDriver implements BlockDriver {

    @Override
    public String name() {
        return "file";
    }

    @Override
    public BlockDriverState open(BlockdevOptions options, OpenEnv env) {
        BlockdevOptions.File o = (BlockdevOptions.File) options;
        if (o.aio() != BlockdevOptions.File.Aio.THREADS) {
            throw new QmpException.GenericError("aio=" + o.aio().name().toLowerCase().replace('_', '-')
                    + " is not supported by this build; use aio=threads");
        }
        Path path = Path.of(o.filename());
        List<OpenOption> opts = new ArrayList<>();
        opts.add(StandardOpenOption.READ);
        if (!o.readOnly()) {
            opts.add(StandardOpenOption.WRITE);
        }
        int alignment = 1;
        if (o.cacheDirect()) {
            opts.add(com.sun.nio.file.ExtendedOpenOption.DIRECT);
        }
        if (Files.isDirectory(path)) {
            throw new QmpException.GenericError("Could not open '" + o.filename() + "': Is a directory");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, opts.toArray(OpenOption[]::new));
        } catch (NoSuchFileException e) {
            throw new QmpException.GenericError("Could not open '" + o.filename() + "': No such file or directory");
        } catch (AccessDeniedException e) {
            throw new QmpException.GenericError("Could not open '" + o.filename() + "': Permission denied");
        } catch (UnsupportedOperationException | IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (o.cacheDirect()) {
                throw new QmpException.GenericError("Could not open '" + o.filename()
                        + "': O_DIRECT is not supported here (" + why + "); use cache.direct=off");
            }
            throw new QmpException.GenericError("Could not open '" + o.filename() + "': " + why);
        }
        HostFile host = null;
        try {
            if (o.cacheDirect()) {
                alignment = (int) Math.max(512, Files.getFileStore(path).getBlockSize());
            }
            host = HostFile.open(path, !o.readOnly());
            lock(o, host);
            return new FileState(path, channel, alignment, o.noFlush(), o.readOnly(), o.discardUnmap(), host);
        } catch (IOException | QmpException e) {
            if (host != null) {
                host.close();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // the open already failed; the first error is the one to report
            }
            if (e instanceof QmpException q) {
                throw q;
            }
            throw new QmpException.GenericError("Could not open '" + o.filename() + "': " + e.getMessage());
        }
    }

    /**
     * QEMU's image locking (locking=auto|on): a writable node takes consistent read, write and
     * resize and shares only consistent read and write-unchanged, so a second writer (qmpd or
     * QEMU) is refused; a read-only node takes consistent read and refuses writers too, as a
     * QEMU reader without force-share does. With auto, a file system without OFD locks goes
     * without; with on, that is an error.
     */
    private static void lock(BlockdevOptions.File o, HostFile host) {
        if (o.locking() == BlockdevOptions.File.Locking.OFF) {
            return;
        }
        if (host == null) {
            if (o.locking() == BlockdevOptions.File.Locking.ON) {
                throw new QmpException.GenericError("Could not open '" + o.filename() + "' for locking");
            }
            return;
        }
        int perm = o.readOnly() ? HostFile.PERM_CONSISTENT_READ
                : HostFile.PERM_CONSISTENT_READ | HostFile.PERM_WRITE | HostFile.PERM_RESIZE;
        int shared = HostFile.PERM_CONSISTENT_READ | HostFile.PERM_WRITE_UNCHANGED;
        try {
            host.lock(perm, shared);
        } catch (HostFile.LockConflict e) {
            if (!e.conflict && o.locking() == BlockdevOptions.File.Locking.AUTO) {
                return;
            }
            throw new QmpException.GenericError(e.getMessage());
        }
    }
}
