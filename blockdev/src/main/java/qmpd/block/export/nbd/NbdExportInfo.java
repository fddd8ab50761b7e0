package qmpd.block.export.nbd;

/**
 * What the handshake needs of an export: its name and description, its size, and the transmission
 * flags it advertises. Implemented by {@link NbdExport}; tests may supply their own.
 */
public interface NbdExportInfo {
    String name();

    /** The description, or null for none. */
    String description();

    long size();

    /** The transmission flags (Nbd.FLAG_*), including HAS_FLAGS. */
    int transmissionFlags();

    /** The node's request alignment: the minimum block size advertised to clients that ask. */
    int minimumBlockSize();
}
