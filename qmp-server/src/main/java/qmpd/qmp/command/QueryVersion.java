package qmpd.qmp.command;

/**
 * {@code query-version}, and the version object of the greeting.
 *
 * <p>We report 7.2.22: qmpd speaks QEMU 7.2's QMP (its errors, limits and schema shapes are those
 * of the 7.2.22 binaries it is compared against), and clients decide features from major/minor, so
 * any other number would promise or deny behaviour we do not have. {@code package} says what really
 * answers (QEMU puts its distribution build there; upstream builds send "").
 */
public final class QueryVersion extends QmpCommand<QmpCommand.NoArgs, QueryVersion.VersionInfo> {

    /** QAPI {@code VersionTriple}. */
    public record VersionTriple(long major, long minor, long micro) {
    }

    /** QAPI {@code VersionInfo}. */
    public record VersionInfo(VersionTriple qemu, String packageName) {
        @com.fasterxml.jackson.annotation.JsonProperty("package")
        @Override
        public String packageName() {
            return packageName;
        }
    }

    /** What this server reports, in the greeting and here. */
    public static final VersionInfo VERSION = new VersionInfo(new VersionTriple(7, 2, 22), "qmpd 0.1.0");

    public QueryVersion() {
        super("query-version", NoArgs.class, VersionInfo.class);
    }

    @Override
    protected VersionInfo execute(NoArgs args, QmpContext ctx) {
        return VERSION;
    }
}
