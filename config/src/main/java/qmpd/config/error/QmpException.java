package qmpd.config.error;

/**
 * A QMP error: the wire class and a human-readable description, thrown by commands and graph code
 * and turned into {@code {"error": {"class": ..., "desc": ...}}} at one boundary (STYLE.md 2.4).
 *
 * <p>The classes are QEMU's (qapi/error.json, QEMU 7.2); messages follow QEMU's wording: no trailing
 * period, user-supplied names in single quotes.
 */
public abstract sealed class QmpException extends RuntimeException
        permits QmpException.GenericError, QmpException.CommandNotFound, QmpException.DeviceNotFound,
                QmpException.DeviceNotActive, QmpException.KvmMissingCap {

    private final String errorClass;

    private QmpException(String errorClass, String desc) {
        super(desc, null, false, false);   // a user error: no stack trace to fill in
        this.errorClass = errorClass;
    }

    /** The wire name of the class, e.g. {@code "GenericError"}. */
    public String errorClass() {
        return errorClass;
    }

    /** The description sent as {@code desc}. */
    public String desc() {
        return getMessage();
    }

    /** Every other error; by far the most common class. */
    public static final class GenericError extends QmpException {
        public GenericError(String desc) {
            super("GenericError", desc);
        }
    }

    /** The requested command has not been found. */
    public static final class CommandNotFound extends QmpException {
        public CommandNotFound(String desc) {
            super("CommandNotFound", desc);
        }
    }

    /** The requested device (or node, or object) has not been found. */
    public static final class DeviceNotFound extends QmpException {
        public DeviceNotFound(String desc) {
            super("DeviceNotFound", desc);
        }
    }

    /** A device has failed to be become active. */
    public static final class DeviceNotActive extends QmpException {
        public DeviceNotActive(String desc) {
            super("DeviceNotActive", desc);
        }
    }

    /** The requested operation can't be fulfilled because a required KVM capability is missing. */
    public static final class KvmMissingCap extends QmpException {
        public KvmMissingCap(String desc) {
            super("KVMMissingCap", desc);
        }
    }

    /** Shorthand for the most common case. */
    public static GenericError generic(String format, Object... args) {
        return new GenericError(args.length == 0 ? format : String.format(format, args));
    }
}
