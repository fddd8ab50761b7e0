package qmpd.qmp.command;

/** {@code query-status}: a storage daemon is always running, as qemu-system reports a running VM. */
public final class QueryStatus extends QmpCommand<QmpCommand.NoArgs, QueryStatus.StatusInfo> {

    /** QAPI {@code RunState}. */
    public enum RunState {
        DEBUG, INMIGRATE, INTERNAL_ERROR, IO_ERROR, PAUSED, POSTMIGRATE, PRELAUNCH, FINISH_MIGRATE,
        RESTORE_VM, RUNNING, SAVE_VM, SHUTDOWN, SUSPENDED, WATCHDOG, GUEST_PANICKED, COLO;

        @com.fasterxml.jackson.annotation.JsonValue
        public String wire() {
            return qmpd.qmp.schema.RecordSchema.enumWireName(this);
        }
    }

    /** QAPI {@code StatusInfo}. */
    public record StatusInfo(boolean running, boolean singlestep, RunState status) {
    }

    public QueryStatus() {
        super("query-status", NoArgs.class, StatusInfo.class);
    }

    @Override
    protected StatusInfo execute(NoArgs args, QmpContext ctx) {
        return new StatusInfo(true, false, RunState.RUNNING);
    }
}
