package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static qmpd.qmp.QmpClient.assertError;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.server.Monitor;

/** Listeners, one client at a time per monitor, output formats, events and IOThread objects. */
class MonitorTest {
    @TempDir
    Path dir;

    private TestServer ts;

    @BeforeEach
    void start() {
        ts = new TestServer(dir, id -> id.equals("busy") ? List.of("node 'disk0'") : List.of(), List.of());
    }

    @AfterEach
    void stop() {
        ts.close();
    }

    @Test
    @Timeout(30)
    void aSecondClientWaitsWithoutGreetingUntilTheFirstLeaves() throws Exception {
        Path a = ts.monitor("A");
        QmpClient first = QmpClient.negotiated(a, false);
        try (QmpClient second = QmpClient.connect(a)) {
            ret(first.execute("query-version", null, null));
            assertFalse(second.hasPending(), "no greeting while the first client is served");
            first.close();
            assertNotNull(second.next().get("QMP"));
            assertError(second.execute("query-status", null, null), "CommandNotFound", null);
            ret(second.execute("qmp_capabilities", null, null));
        }
    }

    @Test
    @Timeout(30)
    void socketFilesAreOwnerOnlyAndRemovedOnClose() throws Exception {
        Path a = ts.monitor("A");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
        ts.server.close();
        assertFalse(Files.exists(a));
    }

    @Test
    @Timeout(30)
    void aStaleSocketIsReplacedButALiveOneOrAPlainFileIsNot() throws Exception {
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(stale));
        }
        assertTrue(Files.exists(stale));
        assertEquals(stale, ts.server.listenUnix(stale, MonitorOptions.defaults())
                .toCompletableFuture().get(10, TimeUnit.SECONDS).unixPath());
        ret(QmpClient.negotiated(stale, false).execute("query-version", null, null));

        Path live = dir.resolve("live.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(live));
            ExecutionException e = assertThrows(ExecutionException.class, () -> ts.server
                    .listenUnix(live, MonitorOptions.defaults()).toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("another server is answering"), e.getCause().toString());
        }
        Path file = Files.writeString(dir.resolve("file.sock"), "x");
        ExecutionException e = assertThrows(ExecutionException.class, () -> ts.server
                .listenUnix(file, MonitorOptions.defaults()).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("not a socket"), e.getCause().toString());
    }

    @Test
    @Timeout(30)
    void tcpMonitorsSpeakTheSameProtocol() throws Exception {
        Monitor m = ts.server.listenTcp("127.0.0.1", 0, MonitorOptions.defaults())
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (QmpClient c = QmpClient.connectTcp(m.actualPort())) {
            assertNotNull(c.next().get("QMP"));
            ret(c.execute("qmp_capabilities", null, null));
            assertEquals(7, ret(c.execute("query-version", null, null)).get("qemu").get("major").asInt());
        }
    }

    @Test
    @Timeout(30)
    void prettyMonitorsIndentLikeQemuAndCompactOnesUseQemuSeparators() throws Exception {
        Path p = ts.monitor("P", MonitorOptions.defaults().withPretty(true));
        try (QmpClient c = QmpClient.connect(p)) {
            assertEquals("{", c.nextLine());
            assertEquals("    \"QMP\": {", c.nextLine());
            while (!c.nextLine().equals("}")) {
                // rest of the greeting
            }
            c.send("{\"execute\": \"qmp_capabilities\", \"id\": [1, \"\u00e9\"]}\n");
            assertEquals(List.of("{", "    \"return\": {", "    },", "    \"id\": [", "        1,",
                    "        \"\\u00E9\"", "    ]", "}"), List.of(c.nextLine(), c.nextLine(), c.nextLine(),
                    c.nextLine(), c.nextLine(), c.nextLine(), c.nextLine(), c.nextLine()));
        }
        try (QmpClient c = QmpClient.connect(ts.monitor("C"))) {
            assertEquals("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
                    + "\"package\": \"qmpd 0.1.0\"}, \"capabilities\": [\"oob\"]}}", c.nextLine());
            c.send("{\"execute\": \"qmp_capabilities\", \"id\": {\"a\": 1.5e3, \"b\": 0.1, \"c\": \"\\ud83d\\ude00\"}}");
            assertEquals("{\"return\": {}, \"id\": {\"a\": 1500, \"b\": 0.10000000000000001, \"c\": \"\\uD83D\\uDE00\"}}",
                    c.nextLine());
        }
    }

    @Test
    @Timeout(30)
    void eventsReachEveryNegotiatedClientOfEveryMonitorButNotNegotiatingOnes() throws Exception {
        try (QmpClient a = QmpClient.negotiated(ts.monitor("A"), false);
             QmpClient b = QmpClient.negotiated(ts.monitor("B"), true);
             QmpClient n = QmpClient.connect(ts.monitor("N"))) {
            n.next();
            ts.server.events().emit("TEST_EVENT", QmpClient.obj("{\"x\": 1}"));
            for (QmpClient c : List.of(a, b)) {
                JsonNode e = c.next();
                assertEquals("TEST_EVENT", e.get("event").asText());
                assertEquals(1, e.get("data").get("x").asInt());
                assertTrue(e.get("timestamp").get("seconds").asLong() > 1_700_000_000L);
                assertTrue(e.get("timestamp").get("microseconds").asLong() < 1_000_000L);
            }
            ts.server.events().emit("NO_DATA", null);
            assertFalse(a.next().has("data"), "events without data omit the member");
            n.send("{\"execute\": \"qmp_capabilities\"}\n");
            JsonNode first = n.next();
            assertTrue(first.has("return"), "a negotiating client misses events for good: " + first);
        }
    }

    @Test
    @Timeout(30)
    void quitEmitsShutdownBeforeItsReplyThenRunsTheOwnersHook() throws Exception {
        try (QmpClient a = QmpClient.negotiated(ts.monitor("A"), false);
             QmpClient b = QmpClient.negotiated(ts.monitor("B"), false)) {
            a.send("{\"execute\": \"quit\", \"id\": \"bye\"}\n");
            JsonNode shutdown = a.next();
            assertEquals("SHUTDOWN", shutdown.get("event").asText());
            assertEquals(QmpClient.obj("{\"guest\": false, \"reason\": \"host-qmp-quit\"}"), shutdown.get("data"));
            assertEquals("bye", a.next().get("id").asText());
            assertEquals("SHUTDOWN", b.next().get("event").asText());
            a.awaitEof();
            b.awaitEof();
            assertEquals(1, ts.shutdowns.get());
        }
    }

    @Test
    @Timeout(30)
    void iothreadsAreRealThreadsThatCanBeTunedAndDeletedUnlessInUse() throws Exception {
        try (QmpClient c = QmpClient.negotiated(ts.monitor("A"), false)) {
            ret(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"io0\", \"poll-max-ns\": 0}", null));
            ret(c.execute("object-add", "{\"qom-type\": \"iothread\", \"id\": \"busy\"}", null));
            JsonNode list = ret(c.execute("query-iothreads", null, null));
            assertEquals(2, list.size());
            JsonNode io0 = list.get(0).get("id").asText().equals("io0") ? list.get(0) : list.get(1);
            long tid = io0.get("thread-id").asLong();
            assertEquals("iothread-io0", Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).trim());
            assertEquals(0, io0.get("poll-max-ns").asInt());
            ret(c.execute("qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-max-ns\", \"value\": 5000}", null));
            assertEquals(5000, ret(c.execute("qom-get", "{\"path\": \"io0\", \"property\": \"poll-max-ns\"}", null)).asInt());
            assertEquals(5000, ts.iothreads.lookup("io0").pollParams().pollMaxNs());
            assertError(c.execute("object-del", "{\"id\": \"busy\"}", null), "GenericError",
                    "object 'busy' is in use, can not be deleted");
            Thread io0Thread = ts.iothreads.lookup("io0").thread();
            ret(c.execute("object-del", "{\"id\": \"io0\"}", null));
            assertFalse(io0Thread.isAlive(), "object-del returns once the thread has ended");
            assertEquals(null, ts.iothreads.lookup("io0"));
            assertEquals(1, ret(c.execute("query-iothreads", null, null)).size());
            ret(c.execute("object-add", "{\"qom-type\": \"main-loop\", \"id\": \"ml\", \"thread-pool-max\": 8}", null));
            assertEquals(8, ret(c.execute("qom-get", "{\"path\": \"/objects/ml\", \"property\": \"thread-pool-max\"}", null)).asInt());
            assertError(c.execute("qom-get", "{\"path\": \"/objects/nosuch\", \"property\": \"type\"}", null),
                    "DeviceNotFound", "Device '/objects/nosuch' not found");
        }
    }

    @Test
    @Timeout(30)
    void introspectionDescribesEveryCommandAndEventItAccepts() throws Exception {
        try (QmpClient c = QmpClient.negotiated(ts.monitor("A"), false)) {
            JsonNode schema = ret(c.execute("query-qmp-schema", null, null));
            JsonNode commands = ret(c.execute("query-commands", null, null));
            java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
            schema.forEach(e -> byName.put(e.get("name").asText(), e));
            for (JsonNode cmd : commands) {
                JsonNode e = byName.get(cmd.get("name").asText());
                assertNotNull(e, cmd.toString());
                assertEquals("command", e.get("meta-type").asText());
                assertNotNull(byName.get(e.get("arg-type").asText()), "arg-type of " + e);
                assertNotNull(byName.get(e.get("ret-type").asText()), "ret-type of " + e);
            }
            assertEquals("event", byName.get("SHUTDOWN").get("meta-type").asText());
            assertEquals("0", byName.get("query-version").get("arg-type").asText());
            JsonNode objectAdd = byName.get(byName.get("object-add").get("arg-type").asText());
            assertEquals("qom-type", objectAdd.get("tag").asText());
            JsonNode iothreadProps = byName.get(objectAdd.get("variants").get(0).get("type").asText());
            assertEquals("aio-max-batch", iothreadProps.get("members").get(0).get("name").asText());
            assertTrue(iothreadProps.get("members").get(0).has("default"), "optional members carry default: null");
            JsonNode caps = byName.get(byName.get(byName.get("qmp_capabilities").get("arg-type").asText())
                    .get("members").get(0).get("type").asText());
            assertEquals("array", caps.get("meta-type").asText());
            assertEquals("enum", byName.get(caps.get("element-type").asText()).get("meta-type").asText());
            for (String builtin : List.of("str", "int", "bool", "any", "null", "number")) {
                assertEquals("builtin", byName.get(builtin).get("meta-type").asText());
            }
        }
    }
}
