package qmpd.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.QmpClient;

/**
 * QEMU runs one in-band command at a time across all monitors: a command that waits in a drain
 * (here an IOThread move behind a slow read) holds back a second monitor's command until it
 * returns, because the drain's nested main-loop poll never dispatches monitor commands. A nested
 * poll that ran the second command would let it see, and change, the graph half-way through the
 * first.
 */
@Timeout(120)
class CommandsRunOneAtATimeTest {

    @Test
    void aSecondMonitorWaitsForACommandThatIsDraining(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        Path nbd = dir.resolve("nbd.sock");
        List<String> args = new ArrayList<>(List.of(
                "--chardev", "socket,path=" + a + ",server=on,wait=off,id=ma", "--monitor", "chardev=ma",
                "--chardev", "socket,path=" + b + ",server=on,wait=off,id=mb", "--monitor", "chardev=mb",
                "--object", "iothread,id=io0",
                // every request takes 1.5 s, so the move below has one to drain
                "--blockdev", "driver=null-co,node-name=n0,size=1048576,latency-ns=1500000000",
                "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                "--export", "type=nbd,id=e0,node-name=n0,name=disk0"));
        try (QmpdProcess qmpd = QmpdProcess.start(dir, "one-at-a-time", args);
                QmpClient qa = qmpd.qmp(a);
                QmpClient qb = qmpd.qmp(b);
                NbdWire client = NbdWire.open(UnixDomainSocketAddress.of(nbd), "disk0")) {
            long sent = System.nanoTime();
            client.read(1, 0, 4096);   // in flight for 1.5 s
            QmpdProcess.sleep(200);
            qa.send("{\"execute\": \"x-blockdev-set-iothread\", \"arguments\": {\"node-name\": \"n0\", "
                    + "\"iothread\": \"io0\", \"force\": true}, \"id\": \"move\"}\n");
            CompletableFuture<JsonNode> moved = CompletableFuture.supplyAsync(qa::reply);
            QmpdProcess.sleep(300);   // the move is now waiting for the read in its drain
            JsonNode nodes = qb.execute("query-named-block-nodes", "{\"flat\": true}", "\"query\"");
            long answeredAfterNs = System.nanoTime() - sent;
            // Causality, not speed: the read cannot complete before its 1.5 s latency, the move
            // cannot return before the read completes, so a query that waited for the move is
            // answered at least 1.5 s after the read was sent. One run inside the drain is
            // answered about 1 s earlier.
            assertTrue(answeredAfterNs >= 1_500_000_000L,
                    "the second monitor's command ran inside the drain, " + answeredAfterNs / 1_000_000 + " ms after the read");
            assertTrue(ret(moved.get(60, TimeUnit.SECONDS)).isObject());
            // ...and it saw the graph after the move, never half-way through it.
            assertEquals("\"query\"", nodes.get("id").toString());
            boolean found = false;
            for (JsonNode n : ret(nodes)) {
                found |= n.path("node-name").asText().equals("n0");
            }
            assertTrue(found, nodes.toString());
            NbdWire.Reply read = client.reply();   // the read completed; the connection followed the node
            assertEquals(1, read.handle());
            assertEquals(0, read.error());
        }
    }
}
