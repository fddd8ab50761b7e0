package qmpd.config.keyval;

/**
 * A malformed option string or a value that does not match its option schema.
 * The message is worded exactly as QEMU words it (util/keyval.c, qapi/qobject-input-visitor.c),
 * without the program name or the option that carried the string: the caller adds those.
 */
public final class KeyvalException extends RuntimeException {
    public KeyvalException(String message) {
        super(message, null, false, false);   // a user error: no stack trace to fill in
    }
}
