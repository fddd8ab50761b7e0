package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import qmpd.qmp.command.QmpCommand;
import qmpd.qmp.command.QueryVersion;
import qmpd.qmp.qom.IOThreadUsers;

/**
 * Replays what clients sent to QEMU 7.2 in the reference transcripts against qmpd and compares
 * every reply in shape (keys, JSON types, error classes) and in value wherever the value is not
 * version or environment specific. Replies must also match QEMU's bytes (with only the
 * {@code package} string substituted): the recorded {@code wire} lines, and every other reply that
 * holds no timestamp, thread id or hash-ordered list, re-printed from the capture (which kept
 * QEMU's member order) in QEMU's format.
 *
 * <p>Requests for commands that qmpd does not implement yet are skipped with their replies,
 * from the explicit list {@link #NOT_IMPLEMENTED}, and counted; each scenario must compare a minimum
 * number of lines, so a replay that silently skips everything fails.
 */
class TranscriptReplayTest {
    /** Commands of the transcripts that belong to the block layer, exports or migration. */
    static final Set<String> NOT_IMPLEMENTED = Set.of("blockdev-add", "blockdev-del", "nbd-server-start",
            "block-export-add", "block-export-del", "query-block-exports", "query-named-block-nodes",
            "migrate-pause");

    private static final String QEMU_PACKAGE = "Debian 1:7.2+dfsg-7+deb12u18+b3";

    @TempDir
    Path dir;

    record Line(int no, String dir, JsonNode msg, String raw, String rawElided, String wire, boolean omitted,
                String conn, String note) {
        String command() {
            if (msg == null || !msg.isObject()) {
                return null;
            }
            JsonNode c = msg.has("execute") ? msg.get("execute") : msg.get("exec-oob");
            return c == null || !c.isTextual() ? null : c.textValue();
        }
    }

    record Stats(int compared, int exact, int skipped) {
    }

    // ---- qemu-system's allow-oob commands, as test-only stand-ins so g_oob.jsonl replays whole ----

    record YankArgs(List<JsonNode> instances) {
    }

    static final class QueryYank extends QmpCommand<QmpCommand.NoArgs, JsonNode> {
        QueryYank() {
            super("query-yank", QmpCommand.NoArgs.class, JsonNode.class);
        }

        @Override
        public boolean allowOob() {
            return true;
        }

        @Override
        protected JsonNode execute(QmpCommand.NoArgs args, qmpd.qmp.command.QmpContext ctx) {
            return QmpClient.JSON.createArrayNode().add(
                    QmpClient.JSON.createObjectNode().put("type", "chardev").put("id", "compat_monitor0"));
        }
    }

    static final class Yank extends QmpCommand<YankArgs, QmpCommand.Empty> {
        Yank() {
            super("yank", YankArgs.class, QmpCommand.Empty.class);
        }

        @Override
        public boolean allowOob() {
            return true;
        }

        @Override
        protected QmpCommand.Empty execute(YankArgs args, qmpd.qmp.command.QmpContext ctx) {
            return QmpCommand.Empty.INSTANCE;
        }
    }

    @Test
    @Timeout(60)
    void greetingAndNegotiationOfQemuStorageDaemon() throws Exception {
        Stats s = replay("a_greeting_negotiation.jsonl", List.of());
        assertTrue(s.compared() >= 15 && s.exact() >= 12, s.toString());
    }

    @Test
    @Timeout(60)
    void greetingStatusAndQuitOfQemuSystem() throws Exception {
        Stats s = replay("a2_greeting_qemu_system.jsonl", List.of());
        assertTrue(s.compared() >= 9 && s.exact() >= 6, s.toString());
    }

    @Test
    @Timeout(60)
    void iothreadLifecycle() throws Exception {
        Stats s = replay("b_iothread_lifecycle.jsonl", List.of());
        assertEquals(0, s.skipped(), s.toString());
        assertTrue(s.compared() >= 33 && s.exact() >= 29, s.toString());
    }

    @Test
    @Timeout(180)
    void malformedInput() throws Exception {
        Stats s = replay("e_malformed_input.jsonl", List.of());
        assertTrue(s.compared() >= 1100, s.toString());
        assertTrue(s.exact() >= 1100, s.toString());
    }

    @Test
    @Timeout(60)
    void outOfBand() throws Exception {
        Stats s = replay("g_oob.jsonl", List.of(new QueryYank(), new Yank()));
        assertTrue(s.compared() >= 25 && s.exact() >= 24, s.toString());
    }

    @Test
    @Timeout(60)
    void multipleMonitorsAndClientsInTurn() throws Exception {
        Stats s = replay("h_multi_monitor.jsonl", List.of());
        assertTrue(s.compared() >= 8 && s.exact() >= 7, s.toString());
    }

    static List<Line> load(String file) throws IOException {
        Path p = Path.of(System.getProperty("qmpd.shared.dir"), "reference", "transcripts", file);
        List<Line> out = new ArrayList<>();
        int no = 0;
        for (String text : Files.readAllLines(p)) {
            no++;
            JsonNode j = QmpClient.JSON.readTree(text);
            JsonNode msg = j.get("msg");
            out.add(new Line(no, j.get("dir").asText(), msg == null || msg.isNull() ? null : msg,
                    str(j, "raw"), str(j, "raw_elided"), str(j, "wire"), j.has("msg_omitted"),
                    j.has("conn") ? j.get("conn").asText() : "main", str(j, "note")));
        }
        return out;
    }

    private static String str(JsonNode j, String key) {
        return j.has(key) ? j.get(key).asText() : null;
    }

    private Stats replay(String file, List<QmpCommand<?, ?>> extra) throws Exception {
        List<Line> lines = load(file);
        int compared = 0;
        int exact = 0;
        int skipped = 0;
        try (TestServer ts = new TestServer(dir, IOThreadUsers.NONE, extra)) {
            Path a = ts.monitor("A");
            Path b = file.startsWith("h_") ? ts.monitor("B") : null;
            Map<String, QmpClient> conns = new LinkedHashMap<>();
            Map<String, Path> socketOf = Map.of("main", a, "A", a, "A2", a, "B", b == null ? a : b);
            boolean skipping = false;
            String lastCommand = null;
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
                if (l.dir().equals("->")) {
                    skipping = false;
                    if (l.msg() == null && l.raw() == null && l.rawElided() == null) {
                        if (l.note() != null && l.note().contains("opened a second connection")) {
                            conns.put(l.conn(), QmpClient.connect(socketOf.get(l.conn())));
                        } else if (l.note() != null && l.note().contains("closes its connection")) {
                            QmpClient waiting = conns.get("A2");
                            assertFalse(waiting != null && waiting.hasPending(),
                                    "the waiting client got something while the first was connected");
                            conns.remove(l.conn()).close();
                        }
                        continue;
                    }
                    String cmd = l.command();
                    String raw = l.raw();
                    if ((cmd != null && NOT_IMPLEMENTED.contains(cmd))
                            || (raw != null && NOT_IMPLEMENTED.stream().anyMatch(raw::contains))) {
                        skipping = true;
                        skipped++;
                        continue;
                    }
                    QmpClient c = conns.computeIfAbsent(l.conn(), k -> open(socketOf.get(k)));
                    if (l.rawElided() != null) {
                        c.sendBytes(tokenCountProbe());
                    } else if (raw != null) {
                        c.sendLatin1(raw);
                    } else {
                        c.send(QmpClient.JSON.writeValueAsString(l.msg()) + "\n");
                    }
                    lastCommand = cmd;
                    continue;
                }
                if (skipping) {
                    skipped++;
                    continue;
                }
                QmpClient c = conns.computeIfAbsent(l.conn(), k -> open(socketOf.get(k)));
                if (l.msg() == null && l.wire() == null && l.note() != null && l.note().startsWith("EOF")) {
                    c.awaitEof();
                    compared++;
                    continue;
                }
                // A block: this and the following replies on the same connection.
                List<Line> block = new ArrayList<>();
                block.add(l);
                while (i + 1 < lines.size() && lines.get(i + 1).dir().equals("<-")
                        && lines.get(i + 1).conn().equals(l.conn())
                        && (lines.get(i + 1).msg() != null || lines.get(i + 1).wire() != null)) {
                    block.add(lines.get(++i));
                }
                boolean expectsShutdown = block.stream().anyMatch(x -> x.msg() != null && x.msg().has("event"));
                List<String> actual = new ArrayList<>();
                while (actual.size() < block.size()) {
                    String line = c.nextLine();
                    // qmpd follows qemu-system: quit emits SHUTDOWN, which qemu-storage-daemon lacks.
                    if (!expectsShutdown && line.contains("\"event\": \"SHUTDOWN\"")) {
                        continue;
                    }
                    actual.add(line);
                }
                List<String> matched = matchById(block, actual);
                for (int k = 0; k < block.size(); k++) {
                    Line exp = block.get(k);
                    String act = matched.get(k);
                    if (exp.wire() != null) {
                        assertEquals(exp.wire().replace(QEMU_PACKAGE, QueryVersion.VERSION.packageName()), act,
                                file + ":" + exp.no());
                        exact++;
                    } else if (byteExactCandidate(exp.msg(), lastCommand)) {
                        // The capture kept QEMU's member order: re-printed in QEMU's format it is the wire line.
                        String wire = qmpd.qmp.json.QmpJsonWriter.writeAsOrdered(exp.msg())
                                .replace(QEMU_PACKAGE, QueryVersion.VERSION.packageName());
                        assertEquals(wire, act, file + ":" + exp.no());
                        exact++;
                    }
                    if (!exp.omitted()) {
                        assertShape(exp.msg(), QmpClient.JSON.readTree(act), "", lastCommand, file + ":" + exp.no());
                    }
                    compared++;
                }
            }
            conns.values().forEach(QmpClient::close);
        }
        System.out.printf("transcript %s: %d lines compared (%d byte-exact), %d skipped%n",
                file, compared, exact, skipped);
        return new Stats(compared, exact, skipped);
    }

    /** Replies whose bytes depend neither on time, thread ids nor on QEMU's full command set. */
    private static boolean byteExactCandidate(JsonNode msg, String cmd) {
        String text = msg.toString();
        return !text.contains("\"timestamp\"") && !text.contains("\"thread-id\"")
                && !(msg.has("return") && ("query-commands".equals(cmd) || "query-qmp-schema".equals(cmd)));
    }

    private static QmpClient open(Path socket) {
        try {
            return QmpClient.connect(socket);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Replies to pipelined requests may be overtaken by OOB ones: pair them by id when ids are unique. */
    private static List<String> matchById(List<Line> block, List<String> actual) throws IOException {
        Set<String> ids = new HashSet<>();
        for (Line l : block) {
            if (l.msg() == null || !l.msg().has("id") || !ids.add(l.msg().get("id").toString())) {
                return actual;
            }
        }
        Map<String, String> byId = new HashMap<>();
        for (String a : actual) {
            JsonNode n = QmpClient.JSON.readTree(a);
            if (n.has("id")) {
                byId.put(n.get("id").toString(), a);
            }
        }
        List<String> out = new ArrayList<>();
        for (Line l : block) {
            String a = byId.get(l.msg().get("id").toString());
            if (a == null) {
                fail("no reply with id " + l.msg().get("id") + " among " + actual);
            }
            out.add(a);
        }
        return out;
    }

    /** The 2 Mi-token probe of e_malformed_input.jsonl, rebuilt from its description. */
    static byte[] tokenCountProbe() {
        StringBuilder s = new StringBuilder("{\"execute\": \"query-version\", \"id\": [");
        for (int k = 0; k < 1048586; k++) {
            s.append(k == 0 ? "1" : ",1");
        }
        s.append("]}\n");
        assertEquals(2097210, s.length(), "probe size as recorded");
        return s.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Keys, JSON types and values; environment-specific values only by type. */
    static void assertShape(JsonNode exp, JsonNode act, String path, String cmd, String where) {
        String at = where + " at '" + path + "': expected " + abbreviate(exp) + " got " + abbreviate(act);
        if (exp.isObject()) {
            assertTrue(act.isObject(), at);
            assertEquals(new TreeSet<>(names(exp)), new TreeSet<>(names(act)), at);
            for (String k : names(exp)) {
                JsonNode e = exp.get(k);
                JsonNode a = act.get(k);
                switch (k) {
                    case "seconds", "microseconds", "thread-id" -> assertTrue(a.isIntegralNumber(), at);
                    case "package" -> assertTrue(a.isTextual(), at);
                    default -> assertShape(e, a, path + "." + k, cmd, where);
                }
            }
        } else if (exp.isArray()) {
            assertTrue(act.isArray(), at);
            if (path.equals(".return") && ("query-commands".equals(cmd) || "query-qmp-schema".equals(cmd))) {
                assertTrue(act.size() > 0, at);
                for (JsonNode e : act) {
                    assertTrue(e.path("name").isTextual(), at);
                    if (cmd.equals("query-qmp-schema")) {
                        assertTrue(e.path("meta-type").isTextual(), at);
                    }
                }
                return;
            }
            assertEquals(exp.size(), act.size(), at);
            List<JsonNode> es = new ArrayList<>();
            exp.forEach(es::add);
            List<JsonNode> as = new ArrayList<>();
            act.forEach(as::add);
            for (int k = 0; k < es.size(); k++) {
                assertShape(es.get(k), as.get(k), path + "[" + k + "]", cmd, where);
            }
        } else if (exp.isNumber()) {
            assertTrue(act.isNumber(), at);
            assertEquals(exp.isIntegralNumber(), act.isIntegralNumber(), at);
            if (exp.isIntegralNumber()) {
                assertEquals(exp.bigIntegerValue(), act.bigIntegerValue(), at);
            } else {
                assertEquals(exp.doubleValue(), act.doubleValue(), at);
            }
        } else {
            assertEquals(exp, act, at);
        }
    }

    private static List<String> names(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
