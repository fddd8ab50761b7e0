package qmpd.qmp.qom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import qmpd.config.schema.IothreadProperties;

/**
 * An {@link IOThreadBackend} of plain platform threads named {@code iothread-<id>} that park until
 * stopped; it holds the poll parameters so they can be queried. Stands in until the event-loop
 * IOThreads of module iothread-manager host real AioContexts.
 */
public final class PlatformIOThreads implements IOThreadBackend {

    @Override
    public Handle start(String id, IothreadProperties props) {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch stop = new CountDownLatch(1);
        AtomicLong tid = new AtomicLong(-1);
        Thread t = Thread.ofPlatform().name("iothread-" + id).daemon(true).start(() -> {
            tid.set(nativeThreadId());
            started.countDown();
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        AtomicReference<IothreadProperties> current = new AtomicReference<>(props);
        return new Handle() {
            @Override
            public long threadId() {
                return tid.get();
            }

            @Override
            public void update(IothreadProperties p) {
                current.set(p);
            }

            @Override
            public void stop() {
                stop.countDown();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    /** The Linux tid of the calling thread, from {@code /proc/thread-self -> <pid>/task/<tid>}. */
    static long nativeThreadId() {
        try {
            Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return Long.parseLong(link.getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
