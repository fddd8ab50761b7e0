package qmpd.block.export.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The NBD wire codec on its own, per request: decoding a 28-byte request header into a pooled
 * {@link NbdRequest} (what {@code NbdTransmission.decode} does for every request in a batch), and
 * encoding the reply header that precedes a READ's data (simple, or a structured OFFSET_DATA
 * chunk) into the request's own direct header buffer. One invocation handles a batch of
 * {@value #BATCH} requests, the size a queue-depth-32 client sends per socket read; the figures
 * are per request. Both paths allocate nothing: run with {@code -prof gc} to see 0 B/op.
 *
 * <p>In the package of the codec (which is package-private) so that it measures the real code.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NbdCodecBench {
    static final int BATCH = 32;

    @Param({"false", "true"})
    public boolean structured;

    private final ByteBuffer wire = ByteBuffer.allocateDirect(BATCH * 28);
    private final NbdRequest[] requests = new NbdRequest[BATCH];
    /** A view of {@link #wire} rewound per invocation (a fresh duplicate would be an allocation). */
    private ByteBuffer in;

    @Setup(Level.Trial)
    public void setUp() {
        for (int i = 0; i < BATCH; i++) {
            wire.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_READ)
                    .putLong(0x1000L + i).putLong(4096L * (i * 7919 % 262144)).putInt(4096);
            requests[i] = new NbdRequest();
        }
        wire.flip();
        in = wire.duplicate();
    }

    /** Decodes a batch of READ headers, checking the magic as the transmission does. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long decodeRequests() {
        in.rewind();
        long sum = 0;
        for (int i = 0; i < BATCH; i++) {
            NbdRequest r = requests[i];
            if (r.decode(in) != Nbd.REQUEST_MAGIC) {
                throw new IllegalStateException("bad magic");
            }
            sum += r.offset + r.handle;
        }
        return sum;
    }

    /** Encodes the header of a 4 KiB READ's reply for each request of a batch. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int encodeReadReplies() {
        int bytes = 0;
        for (int i = 0; i < BATCH; i++) {
            bytes += NbdReplies.readHeader(requests[i], structured).remaining();
        }
        return bytes;
    }

    /** Decode followed by encode, as one request's codec work on the server. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int decodeAndEncode() {
        in.rewind();
        int bytes = 0;
        for (int i = 0; i < BATCH; i++) {
            NbdRequest r = requests[i];
            if (r.decode(in) != Nbd.REQUEST_MAGIC) {
                throw new IllegalStateException("bad magic");
            }
            bytes += NbdReplies.readHeader(r, structured).remaining();
        }
        return bytes;
    }
}
