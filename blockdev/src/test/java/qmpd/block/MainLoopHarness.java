package qmpd.block;

import qmpd.aio.PollParams;
import qmpd.loop.IOThread;
import qmpd.loop.MainLoop;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real main loop (thread {@code main-loop}, GlobalLock held while it dispatches) with a block
 * graph, plus IOThreads on demand. Tests post global-state work to it as QMP commands would.
 */
public final class MainLoopHarness implements AutoCloseable {

    public final MainLoop mainLoop = new MainLoop().start();
    public final BlockGraph graph = BlockGraph.withBuiltinDrivers(mainLoop.context());
    private final List<IOThread> iothreads = new ArrayList<>();
    /** Exceptions thrown by callbacks in the IOThreads: a test that ends with any has failed. */
    public final Queue<Throwable> callbackErrors = new ConcurrentLinkedQueue<>();

    /** Runs {@code work} in the main loop with the GlobalLock held and returns its result. */
    public <T> T onMain(Callable<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        mainLoop.context().runOnce("test", () -> {
            try {
                f.complete(work.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            // Bounded: a lost wake-up fails the test instead of hanging the build.
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error er) throw er;
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("main loop did not finish the work within 60 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public void onMain(Runnable work) {
        onMain(() -> {
            work.run();
            return null;
        });
    }

    public IOThread iothread(String id) {
        IOThread t = IOThread.create(id, PollParams.IOTHREAD_DEFAULT).start();
        t.context().setExceptionHandler(callbackErrors::add);
        iothreads.add(t);
        return t;
    }

    @Override
    public void close() {
        onMain(graph::closeAll);
        for (IOThread t : iothreads) {
            t.stop();
        }
        mainLoop.stop();
        Throwable first = callbackErrors.peek();
        if (first != null) {
            throw new AssertionError(callbackErrors.size() + " callback(s) threw in an IOThread", first);
        }
    }
}
