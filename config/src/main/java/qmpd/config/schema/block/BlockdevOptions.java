package qmpd.config.schema.block;

import java.util.List;
import java.util.Objects;

/**
 * The options of {@code blockdev-add} and {@code --blockdev}, one record per driver (QEMU's
 * BlockdevOptions union, discriminated by {@code driver}). Defaults and range checks live in the
 * compact constructors, so a record that exists is valid (STYLE.md 2.5).
 */
public sealed interface BlockdevOptions
        permits BlockdevOptions.NullCo, BlockdevOptions.NullAio, BlockdevOptions.File, BlockdevOptions.Raw,
        BlockdevOptions.Blkdebug {

    /** The driver name on the wire, e.g. {@code "null-co"}. */
    String driver();

    /** The node name; null asks the graph to generate one (QEMU's {@code #block<N>}). */
    String nodeName();

    /** Whether the node is opened read-only. */
    boolean readOnly();

    /** QEMU's {@code null-co}: reads return zeroes if asked, writes vanish; completes inline. */
    record NullCo(String nodeName, long size, boolean readZeroes, long latencyNs, boolean readOnly)
            implements BlockdevOptions {
        public NullCo {
            NullOptions.check(size, latencyNs);
        }

        /** The defaults of QEMU's null driver: 1 GiB, no read-zeroes, no latency. */
        public static NullCo of(String nodeName) {
            return new NullCo(nodeName, 1L << 30, false, 0, false);
        }

        @Override
        public String driver() {
            return "null-co";
        }
    }

    /** QEMU's {@code null-aio}: like null-co but every request completes through the worker pool. */
    record NullAio(String nodeName, long size, boolean readZeroes, long latencyNs, boolean readOnly)
            implements BlockdevOptions {
        public NullAio {
            NullOptions.check(size, latencyNs);
        }

        @Override
        public String driver() {
            return "null-aio";
        }
    }

    /** QEMU's {@code file}: a host file or block device. */
    record File(String nodeName, String filename, Aio aio, boolean cacheDirect, boolean noFlush,
                Locking locking, boolean discardUnmap, boolean readOnly) implements BlockdevOptions {
        public File {
            Objects.requireNonNull(filename, "filename");
            aio = aio == null ? Aio.THREADS : aio;
            locking = locking == null ? Locking.AUTO : locking;
        }

        public static File of(String nodeName, String filename) {
            return new File(nodeName, filename, Aio.THREADS, false, false, Locking.AUTO, false, false);
        }

        @Override
        public String driver() {
            return "file";
        }

        /** QEMU's BlockdevAioOptions. */
        public enum Aio { THREADS, NATIVE, IO_URING }

        /** QEMU's OnOffAuto for {@code locking}. */
        public enum Locking { AUTO, ON, OFF }
    }

    /**
     * QEMU's {@code raw} format on top of a child: {@code offset} and {@code size} select a window.
     * The child is named by {@code fileNodeName} (a reference) or given inline as {@code fileInline}.
     */
    record Raw(String nodeName, String fileNodeName, BlockdevOptions fileInline, long offset, Long size,
               boolean readOnly) implements BlockdevOptions {
        public Raw {
            if ((fileNodeName == null) == (fileInline == null)) {
                throw new IllegalArgumentException("raw needs exactly one of a file reference or inline options");
            }
            if (offset < 0) {
                throw new IllegalArgumentException("offset cannot be negative");
            }
            if (size != null && size < 0) {
                throw new IllegalArgumentException("size cannot be negative");
            }
        }

        @Override
        public String driver() {
            return "raw";
        }
    }

    /**
     * QEMU's {@code blkdebug} filter: forwards to its {@code image} child and fails or delays the
     * requests its rules select. The child is a reference ({@code imageNodeName}) or inline.
     */
    record Blkdebug(String nodeName, String imageNodeName, BlockdevOptions imageInline,
                    List<BlkdebugOptions.InjectError> injectErrors, List<BlkdebugOptions.SetState> setStates,
                    boolean readOnly) implements BlockdevOptions {
        public Blkdebug {
            if ((imageNodeName == null) == (imageInline == null)) {
                throw new IllegalArgumentException("blkdebug needs exactly one of an image reference or inline options");
            }
            injectErrors = injectErrors == null ? List.of() : List.copyOf(injectErrors);
            setStates = setStates == null ? List.of() : List.copyOf(setStates);
        }

        @Override
        public String driver() {
            return "blkdebug";
        }
    }
}
