package qmpd.block;

import java.util.Objects;

/** An edge of the graph: a parent node uses {@code node} in a {@code role} (QEMU's BdrvChild). */
public record BlockChild(String name, Role role, BlockNode node) {

    public BlockChild {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(node, "node");
    }

    /** What the parent uses the child for (QEMU's BdrvChildRole, simplified). */
    public enum Role {
        /** The protocol layer a format reads and writes (raw's {@code file}). */
        FILE,
        /** A backing image. */
        BACKING
    }
}
