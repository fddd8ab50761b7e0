package qmpd.qmp.command;

import java.util.List;
import qmpd.qmp.qom.QomObjects;

/** {@code query-iothreads}: every IOThread object with its native thread id and poll parameters. */
public final class QueryIothreads extends QmpCommand<QmpCommand.NoArgs, List<QueryIothreads.IOThreadInfo>> {

    /** QAPI {@code IOThreadInfo}. */
    public record IOThreadInfo(String id, long threadId, long pollMaxNs, long pollGrow, long pollShrink,
                               long aioMaxBatch) {
    }

    private final QomObjects objects;

    public QueryIothreads(QomObjects objects) {
        super("query-iothreads", NoArgs.class,
                new com.fasterxml.jackson.core.type.TypeReference<List<IOThreadInfo>>() { }.getType());
        this.objects = objects;
    }

    @Override
    protected List<IOThreadInfo> execute(NoArgs args, QmpContext ctx) {
        return objects.iothreads().stream().map(io -> new IOThreadInfo(io.id(), io.threadId(),
                io.properties().pollMaxNs(), io.properties().pollGrow(), io.properties().pollShrink(),
                io.properties().aioMaxBatch())).toList();
    }
}
