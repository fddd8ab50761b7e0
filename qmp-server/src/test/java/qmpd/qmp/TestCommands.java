package qmpd.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import qmpd.loop.GlobalLock;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QmpContext;

/** Test-only commands: registered by tests, never by the daemon. */
final class TestCommands {
    private TestCommands() {
    }

    /** Where and how a command ran. */
    static ObjectNode where() {
        return QmpClient.JSON.createObjectNode()
                .put("thread", Thread.currentThread().getName())
                .put("global-lock", GlobalLock.isHeldByCurrentThread());
    }

    /** In-band {@code x-test-slow}: blocks the main loop until released (bounded). */
    static final class Slow extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        Slow() {
            super("x-test-slow", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("x-test-slow was never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return where();
        }
    }

    /** {@code x-test-where}: allow-oob; reports its thread, whether in-band or OOB. */
    static final class Where extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        Where() {
            super("x-test-where", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        public boolean allowOob() {
            return true;
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            return where();
        }
    }

    /** {@code x-test-fail}: throws a non-QMP exception, which must become a GenericError. */
    static final class Fail extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        Fail() {
            super("x-test-fail", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, QmpContext ctx) {
            throw new IllegalStateException("boom");
        }
    }
}
