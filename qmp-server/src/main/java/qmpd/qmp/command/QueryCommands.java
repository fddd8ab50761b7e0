package qmpd.qmp.command;

import java.util.List;

/** {@code query-commands}: the commands this monitor accepts in its current mode. */
public final class QueryCommands extends QmpCommand<QmpCommand.NoArgs, List<QueryCommands.CommandInfo>> {

    /** QAPI {@code CommandInfo}. */
    public record CommandInfo(String name) {
    }

    public QueryCommands() {
        super("query-commands", NoArgs.class, new com.fasterxml.jackson.core.type.TypeReference<List<CommandInfo>>() {
        }.getType());
    }

    @Override
    protected List<CommandInfo> execute(NoArgs args, QmpContext ctx) {
        return ctx.session().commandNames(ctx.registry()).stream().map(CommandInfo::new).toList();
    }
}
