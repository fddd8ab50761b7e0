package qmpd.qmp.qom;

import java.util.List;

/**
 * Who still uses an IOThread (block nodes, exports, devices). {@code object-del} refuses to delete
 * an IOThread with users, where QEMU 7.2 deletes it and later crashes (qmp-protocol.md section 15).
 * The block layer supplies the real answer.
 */
@FunctionalInterface
public interface IOThreadUsers {
    /** Nobody uses any IOThread. */
    IOThreadUsers NONE = id -> List.of();

    /** Human-readable descriptions of the users of IOThread {@code id}, e.g. "node 'disk0'"; empty if none. */
    List<String> usersOf(String id);
}
