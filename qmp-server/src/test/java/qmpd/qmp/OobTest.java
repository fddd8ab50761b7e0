package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.qom.IOThreadUsers;

/** Out-of-band execution, the in-band queue and where commands run. */
class OobTest {
    @TempDir
    Path dir;

    private TestCommands.Slow slow;
    private TestServer ts;
    private Path a;
    private Path b;

    @BeforeEach
    void start() throws Exception {
        slow = new TestCommands.Slow();
        ts = new TestServer(dir, IOThreadUsers.NONE, List.of(slow, new TestCommands.Where()));
        a = ts.monitor("A");
        b = ts.monitor("B");
    }

    @AfterEach
    void stop() {
        slow.release.countDown();
        ts.close();
    }

    @Test
    @Timeout(30)
    void inBandCommandsRunOnTheMainLoopWithTheGlobalLock() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, true)) {
            JsonNode inBand = ret(c.execute("x-test-where", null, "1"));
            assertEquals("main-loop", inBand.get("thread").asText());
            assertTrue(inBand.get("global-lock").asBoolean());
            c.send("{\"exec-oob\": \"x-test-where\", \"id\": 2}\n");
            JsonNode oob = ret(c.reply());
            assertTrue(oob.get("thread").asText().startsWith("vert.x-eventloop"), oob.toString());
            assertFalse(oob.get("global-lock").asBoolean());
        }
    }

    @Test
    @Timeout(30)
    void slowInBandCommandInOneMonitorDoesNotDelayOobInAnother() throws Exception {
        try (QmpClient ca = QmpClient.negotiated(a, false); QmpClient cb = QmpClient.negotiated(b, true)) {
            ca.send("{\"execute\": \"x-test-slow\", \"id\": \"slow\"}\n");
            assertTrue(slow.entered.await(20, TimeUnit.SECONDS));
            cb.send("{\"execute\": \"query-version\", \"id\": \"inband-b\"}\n");
            cb.send("{\"exec-oob\": \"x-test-where\", \"id\": \"oob-b\"}\n");
            JsonNode first = cb.reply();
            assertEquals("oob-b", first.get("id").asText(), "OOB answered while the main loop is busy");
            slow.release.countDown();
            assertEquals("slow", ca.reply().get("id").asText());
            assertEquals("inband-b", cb.reply().get("id").asText());
        }
    }

    @Test
    @Timeout(30)
    void oobOvertakesAnEarlierInBandRequestOfTheSameMonitor() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, true)) {
            c.send("{\"execute\": \"x-test-slow\", \"id\": 1}{\"exec-oob\": \"x-test-where\", \"id\": 2}");
            assertEquals(2, c.reply().get("id").asInt());
            slow.release.countDown();
            assertEquals(1, c.reply().get("id").asInt());
        }
    }

    @Test
    @Timeout(30)
    void aFullQueueStopsReadingUntilTheDispatcherTakesOneAndNothingIsDropped() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, true)) {
            StringBuilder burst = new StringBuilder("{\"execute\": \"x-test-slow\", \"id\": \"slow\"}");
            for (int i = 0; i < 8; i++) {
                burst.append("{\"execute\": \"query-version\", \"id\": ").append(i).append('}');
            }
            burst.append("{\"exec-oob\": \"x-test-where\", \"id\": \"oob\"}");
            c.send(burst.toString());
            assertTrue(slow.entered.await(20, TimeUnit.SECONDS));
            slow.release.countDown();
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                JsonNode m = c.next();
                assertFalse(m.has("event"), "no COMMAND_DROPPED or other event: " + m);
                order.add(m.get("id").asText());
            }
            assertTrue(order.indexOf("oob") > order.indexOf("slow"),
                    "the OOB request sat unread behind 8 queued ones: " + order);
            List<String> inBand = order.stream().filter(id -> !id.equals("oob")).toList();
            assertEquals(List.of("slow", "0", "1", "2", "3", "4", "5", "6", "7"), inBand);
        }
    }

    @Test
    @Timeout(30)
    void withoutOobPipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, false)) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                burst.append("{\"execute\": \"x-test-where\", \"id\": ").append(i).append("}\n");
            }
            c.send(burst.toString());
            for (int i = 0; i < 20; i++) {
                assertEquals(i, c.reply().get("id").asInt());
            }
        }
    }
}
