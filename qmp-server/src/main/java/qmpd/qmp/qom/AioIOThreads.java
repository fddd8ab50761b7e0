package qmpd.qmp.qom;

import qmpd.aio.PollParams;
import qmpd.config.schema.IothreadProperties;
import qmpd.loop.IOThread;
import qmpd.loop.IOThreadRegistry;

/**
 * The real {@link IOThreadBackend}: each object is a {@link IOThread} (thread {@code iothread-<id>}
 * running its own AioContext), registered in the shared {@link IOThreadRegistry} so the block layer
 * finds it by id.
 */
public final class AioIOThreads implements IOThreadBackend {
    private final IOThreadRegistry registry;

    public AioIOThreads(IOThreadRegistry registry) {
        this.registry = registry;
    }

    /** QEMU's poll-grow/shrink and aio-max-batch are carried by the context; the pool limits are not yet. */
    static PollParams pollParams(IothreadProperties p) {
        return new PollParams(p.pollMaxNs(), p.pollGrow(), p.pollShrink(), p.aioMaxBatch());
    }

    @Override
    public Handle start(String id, IothreadProperties props) {
        IOThread t = IOThread.create(id, pollParams(props)).start();
        registry.add(t);
        return new Handle() {
            @Override
            public long threadId() {
                return t.nativeThreadId();
            }

            @Override
            public void update(IothreadProperties p) {
                t.setPollParams(pollParams(p));
            }

            @Override
            public void stop() {
                registry.remove(id);
                t.stop();
            }
        };
    }
}
