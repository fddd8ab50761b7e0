package qmpd.qmp.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletionStage;
import qmpd.aio.annotation.GlobalState;

/**
 * Told of every in-band command that succeeded, from any monitor or the HTTP gateway, before its
 * reply is sent (the state file records changes this way). The reply waits for the returned
 * stage; if that fails, the client gets a GenericError saying the change was made but not
 * recorded.
 */
@FunctionalInterface
public interface CommandObserver {
    CommandObserver NONE = (name, args) -> null;

    /**
     * Called on the main loop with the GlobalLock held, right after {@code name} succeeded.
     *
     * @return null when there is nothing to wait for
     */
    @GlobalState
    CompletionStage<Void> succeeded(String name, ObjectNode args);
}
