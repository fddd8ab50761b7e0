package qmpd.qmp.command;

/**
 * {@code quit}: emits SHUTDOWN (qemu-system's fields; it precedes the reply as in QEMU), replies,
 * then the server owner's shutdown hook stops the daemon.
 */
public final class Quit extends QmpCommand<QmpCommand.NoArgs, QmpCommand.Empty> {

    /** QAPI {@code ShutdownCause}. */
    public enum ShutdownCause {
        NONE, HOST_ERROR, HOST_QMP_QUIT, HOST_QMP_SYSTEM_RESET, HOST_SIGNAL, HOST_UI, GUEST_SHUTDOWN,
        GUEST_RESET, GUEST_PANIC, SUBSYSTEM_RESET, SNAPSHOT_LOAD;

        @com.fasterxml.jackson.annotation.JsonValue
        public String wire() {
            return qmpd.qmp.schema.RecordSchema.enumWireName(this);
        }
    }

    /** The data of event {@code SHUTDOWN}. */
    public record ShutdownData(boolean guest, ShutdownCause reason) {
    }

    public Quit() {
        super("quit", NoArgs.class, Empty.class);
    }

    @Override
    protected Empty execute(NoArgs args, QmpContext ctx) {
        ctx.events().emit("SHUTDOWN", new ShutdownData(false, ShutdownCause.HOST_QMP_QUIT));
        ctx.requestShutdown();
        return Empty.INSTANCE;
    }
}
