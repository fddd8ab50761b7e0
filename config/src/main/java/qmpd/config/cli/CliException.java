package qmpd.config.cli;

/**
 * A command line or config file error. It is reported on stderr as
 * {@code qmpd: <location>: <message>} and the process exits with status {@link #EXIT_STATUS},
 * as qemu-storage-daemon does; it never travels over QMP.
 */
public final class CliException extends RuntimeException {
    /** The exit status for any command line error. */
    public static final int EXIT_STATUS = 1;

    private final String location;
    private final String reason;

    /**
     * @param location what the message is about: the option as given
     *                 ({@code --blockdev driver=x}), a config file, or null
     * @param reason   QEMU's wording; a second line, if any, is a hint
     */
    public CliException(String location, String reason) {
        super(location == null ? reason : location + ": " + reason, null, false, false);
        this.location = location;
        this.reason = reason;
    }

    /** The option or file the error is about, or null. */
    public String location() {
        return location;
    }

    /** The message without its location. */
    public String reason() {
        return reason;
    }

    /** The text to print on stderr: {@code prog: location: reason}. */
    public String format(String prog) {
        return prog + ": " + getMessage();
    }
}
