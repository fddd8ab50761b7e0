package qmpd.block.export.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * At max-connections the listener pauses: a further client waits in the backlog without a
 * greeting and is served as soon as a slot frees (QEMU's behaviour).
 */
@Timeout(30)
class MaxConnectionsTest {

    @TempDir
    Path dir;
    private NbdTestBed bed;

    @AfterEach
    void tearDown() {
        bed.close();
    }

    @Test
    void clientOverTheLimitWaitsForAFreeSlot() throws IOException {
        bed = new NbdTestBed(dir);
        bed.listen(UnixDomainSocketAddress.of(bed.socket), 2);
        bed.export("disk0", bed.raw("n0", bed.sparseFile("disk.raw", 1 << 20)), true);

        NbdTestClient first = NbdTestClient.go(bed.address(), "disk0", true);
        try (NbdTestClient second = NbdTestClient.go(bed.address(), "disk0", false);
             SocketChannel third = SocketChannel.open(bed.address())) {
            third.configureBlocking(false);
            // Both slots are served: the third client's greeting cannot have been sent. Prove the
            // server is idle-but-alive first, so "nothing arrived" is not just "not yet".
            assertEquals(0, first.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertEquals(0, second.call(Nbd.CMD_FLUSH, 0, 0, 0, null).error());
            assertEquals(0, third.read(ByteBuffer.allocate(1)), "no greeting while at the limit");

            first.request(Nbd.CMD_DISC, 0, 9, 0, 0, null);
            first.assertClosedByServer();
            first.close();
            third.configureBlocking(true);
            ByteBuffer greeting = ByteBuffer.allocate(18);
            while (greeting.hasRemaining() && third.read(greeting) >= 0) {
                // a blocking read: the test's timeout bounds it
            }
            assertEquals(Nbd.NBDMAGIC, greeting.flip().getLong());
        }
        bed.awaitNoConnections();
        NbdTestClient.assertServes(bed.address(), "disk0", 0);
    }
}
