package qmpd.block;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import qmpd.aio.AioContext;
import qmpd.loop.GlobalLock;

/**
 * The fixture of the graph tests: the test thread is the home thread of {@code ctx} and holds
 * the GlobalLock for the whole test, as the main loop does for QMP commands, so graph changes
 * and I/O completions run here when the test polls {@code ctx}.
 */
abstract class GraphOnTestThread {

    @TempDir
    Path dir;

    AioContext ctx;
    BlockGraph graph;

    @BeforeEach
    void setUpGraph() {
        ctx = AioContext.createForCurrentThread("main-test");
        GlobalLock.lock();
        graph = BlockGraph.withBuiltinDrivers(ctx);
    }

    @AfterEach
    void tearDownGraph() {
        graph.closeAll();
        GlobalLock.unlock();
        ctx.close();
    }

    /** A sparse image file of {@code size} bytes in the test's directory. */
    Path image(long size) throws IOException {
        Path p = Files.createTempFile(dir, "disk", ".raw");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }
}
