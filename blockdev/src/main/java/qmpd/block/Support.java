package qmpd.block;

/** How a driver supports an optional operation (nbdkit's can_* answers). */
public enum Support {
    /** Not at all: the node fails the request with ENOTSUP. */
    NONE,
    /** The node emulates it on top of other operations (e.g. FUA as write + flush). */
    EMULATE,
    /** The driver does it itself. */
    NATIVE
}
