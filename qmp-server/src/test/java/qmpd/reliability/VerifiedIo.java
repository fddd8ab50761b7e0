package qmpd.reliability;

import java.io.IOException;
import java.net.SocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One NBD client doing verified I/O on its own range of blocks until stopped: write a fresh
 * generation of a block, read it back, compare; now and then a flush or a read of an older block.
 * Any error reply, wrong data or lost connection is kept as {@link #failure()}: an
 * {@link AssertionError} for an error reply or wrong data, an {@link IOException} for a connection
 * the server closed.
 *
 * <p>Runs on its own platform thread; {@link #stop()} and the counters are safe from any thread.
 */
final class VerifiedIo {
    private final SocketAddress address;
    private final String export;
    private final int firstBlock;
    private final int blocks;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong verified = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final long[] written;   // owned by the I/O thread
    private Thread thread;

    VerifiedIo(SocketAddress address, String export, int firstBlock, int blocks) {
        this.address = address;
        this.export = export;
        this.firstBlock = firstBlock;
        this.blocks = blocks;
        this.written = new long[blocks];
    }

    VerifiedIo start(String name) {
        thread = Thread.ofPlatform().daemon(true).name(name).start(this::loop);
        return this;
    }

    private void loop() {
        SplittableRandom rnd = new SplittableRandom(firstBlock);
        long handle = 0;
        long gen = 0;
        try (NbdWire w = NbdWire.open(address, export)) {
            while (!stop.get()) {
                int i = rnd.nextInt(blocks);
                long b = firstBlock + i;
                long off = b * BlockPattern.SIZE;
                if (written[i] > 0 && rnd.nextInt(4) == 0) {
                    check(w.readNow(off, BlockPattern.SIZE), b, written[i]);
                    continue;
                }
                long g = ++gen;
                w.write(++handle, off, BlockPattern.encode(b, g), rnd.nextInt(8) == 0);
                NbdWire.Reply r = w.reply();
                if (r.error() != 0 || r.handle() != handle) {
                    throw new AssertionError("write of block " + b + ": error " + r.error() + " handle " + r.handle());
                }
                written[i] = g;
                check(w.readNow(off, BlockPattern.SIZE), b, g);
                if (rnd.nextInt(16) == 0) {
                    w.flush(++handle);
                    r = w.reply();
                    if (r.error() != 0) {
                        throw new AssertionError("flush: error " + r.error());
                    }
                }
            }
            w.disconnect();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    private void check(byte[] data, long block, long gen) throws IOException {
        long found = BlockPattern.decode(data, 0, block);
        if (found != gen) {
            throw new AssertionError("block " + block + " reads back generation " + found + ", wrote " + gen);
        }
        verified.incrementAndGet();
    }

    /** Stops the loop and waits for the client to disconnect. */
    void stop() throws InterruptedException {
        stop.set(true);
        thread.join(60_000);
        if (thread.isAlive()) {
            failure.compareAndSet(null, new AssertionError("verified I/O client did not stop"));
        }
    }

    long verified() {
        return verified.get();
    }

    Throwable failure() {
        return failure.get();
    }
}
