package qmpd.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static qmpd.qmp.QmpClient.assertError;
import static qmpd.qmp.QmpClient.ret;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import qmpd.qmp.qom.IOThreadUsers;

/**
 * Every kind of bad input gets QEMU's reply (class and text; the id echoed exactly when QEMU does),
 * and afterwards both the same client and a client of another monitor are still served.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedInputTest {
    private static final String PE = "JSON parse error, ";

    private TestCommands.Slow slow;
    private TestServer ts;
    private Path a;
    private QmpClient other;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        slow = new TestCommands.Slow();
        ts = new TestServer(dir, IOThreadUsers.NONE, List.of(slow, new TestCommands.Fail()));
        a = ts.monitor("A");
        other = QmpClient.negotiated(ts.monitor("B"), false);
    }

    @AfterAll
    void stop() {
        slow.release.countDown();
        other.close();
        ts.close();
    }

    /** A case: bytes sent, then the expected replies as "Class|desc" or "Class|desc|id". */
    static Arguments c(String name, String raw, String... replies) {
        return Arguments.of(name, raw, List.of(replies));
    }

    static Stream<Arguments> cases() {
        String g = "GenericError|";
        return Stream.of(
                c("syntax error", "{ \"execute\": }\n", g + PE + "expecting value"),
                c("array", "[1, 2]\n", g + "QMP input must be a JSON object"),
                c("scalar", "42\n", g + "QMP input must be a JSON object"),
                c("string", "\"s\"\n", g + "QMP input must be a JSON object"),
                c("null", "null\n", g + "QMP input must be a JSON object"),
                c("empty object", "{}\n", g + "QMP input lacks member 'execute'"),
                c("only id", "{\"id\": 7}\n", g + "QMP input lacks member 'execute'|7"),
                c("execute not a string", "{\"execute\": 1, \"id\": 8}\n", g + "QMP input member 'execute' must be a string|8"),
                c("unknown member", "{\"execute\": \"query-version\", \"foo\": 1, \"id\": 9}\n",
                        g + "QMP input member 'foo' is unexpected|9"),
                c("arguments not an object", "{\"execute\": \"query-version\", \"arguments\": [], \"id\": 11}\n",
                        g + "QMP input member 'arguments' must be an object|11"),
                c("arguments null", "{\"execute\": \"query-version\", \"arguments\": null}\n",
                        g + "QMP input member 'arguments' must be an object"),
                c("exec-oob without oob", "{\"exec-oob\": \"query-version\", \"id\": 25}\n",
                        g + "QMP input member 'exec-oob' is unexpected|25"),
                c("unknown command", "{\"execute\": \"nosuch\", \"id\": 13}\n",
                        "CommandNotFound|The command nosuch has not been found|13"),
                c("second negotiation", "{\"execute\": \"qmp_capabilities\", \"id\": 7}\n",
                        "CommandNotFound|Capabilities negotiation is already complete, command ignored|7"),
                c("unexpected argument", "{\"execute\": \"query-version\", \"arguments\": {\"foo\": 1}, \"id\": 14}\n",
                        g + "Parameter 'foo' is unexpected|14"),
                c("missing argument", "{\"execute\": \"object-del\", \"arguments\": {}, \"id\": 15}\n",
                        g + "Parameter 'id' is missing|15"),
                c("ill-typed argument", "{\"execute\": \"object-del\", \"arguments\": {\"id\": 1}, \"id\": 16}\n",
                        g + "Invalid parameter type for 'id', expected: string|16"),
                c("null for an optional member", "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\", "
                        + "\"id\": \"x\", \"poll-max-ns\": null}}\n", g + "Invalid parameter type for 'poll-max-ns', expected: integer"),
                c("double for an integer", "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\", "
                        + "\"id\": \"x\", \"poll-max-ns\": 1.0}}\n", g + "Invalid parameter type for 'poll-max-ns', expected: integer"),
                c("bad enum value", "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"nosuch\", \"id\": \"x\"}}\n",
                        g + "Parameter 'qom-type' does not accept value 'nosuch'"),
                c("command throws", "{\"execute\": \"x-test-fail\", \"id\": \"f\"}\n", g + "boom|\"f\""),
                c("duplicate key", "{\"execute\": \"query-version\", \"execute\": \"query-commands\", \"id\": 27}\n",
                        g + PE + "duplicate key"),
                c("stray closers", "}\n]\n", g + PE + "expecting value", g + PE + "expecting value"),
                c("control character", "\u0001", g + PE + "stray '\u0001'"),
                c("0xFF resets a half object", "{\"execute\": \"query-version\", \"id\": \"half\"\u00ff",
                        g + PE + "stray '\uFFFD'"),
                c("invalid UTF-8", "{\"execute\": \"query-version\", \"id\": \"bad\u00c3\"}\n",
                        g + PE + "invalid UTF-8 sequence in string"),
                c("invalid escape", "{\"execute\": \"query-version\", \"id\": \"\\x\"}\n",
                        g + PE + "invalid escape sequence in string"),
                c("invalid keyword", "{\"execute\": \"query-version\", \"id\": tru}\n", g + PE + "invalid keyword 'tru'"),
                c("leading zero rescans the line", "{\"execute\": \"query-version\", \"id\": 01}\n",
                        g + PE + "stray '01'", g + PE + "expecting value"),
                c("raw TAB in a string", "{\"execute\": \"query-version\", \"id\": \"tab\there\"}\n",
                        g + PE + "stray '\"tab\t'", g + PE + "expecting value"),
                c("missing comma", "{\"execute\": \"query-version\" \"id\": 5}\n", g + PE + "expected separator in dict"),
                c("missing colon", "{\"a\" \"b\"}\n", g + PE + "missing : in object pair"),
                c("list separator", "[1 2]\n", g + PE + "expected separator in list"),
                c("non-string key", "{1: 2}\n", g + PE + "key is not a string in object"),
                // Several unexpected members: QEMU names the first in its GLib table order (seen on 7.2).
                c("unexpected members, QEMU's pick 1", "{\"execute\": \"query-version\", \"id\": 29, \"arguments\": "
                        + "{\"thread-pool-min\": \"/objects/io1\", \"thread-pool-max\": \"\", \"qom-type\": \"thread-pool-max\", "
                        + "\"path\": null, \"value\": \"/objects/io2\"}}\n", g + "Parameter 'thread-pool-max' is unexpected|29"),
                c("unexpected members, QEMU's pick 2", "{\"execute\": \"query-version\", \"arguments\": {\"qom-type\": "
                        + "\"/objects/io2\", \"property\": \"iothread\", \"aio-max-batch\": 1.5}}\n",
                        g + "Parameter 'aio-max-batch' is unexpected"),
                c("unexpected members, QEMU's pick 3", "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"id\": \"\", "
                        + "\"thread-pool-min\": \"x\", \"path\": \"io2\"}}\n", g + "Parameter 'path' is unexpected"),
                c("shape errors in QEMU's member order", "{\"foo\": 1, \"execute\": 2, \"id\": 3}\n",
                        g + "QMP input member 'execute' must be a string|3"),
                c("lone surrogate escape", "{\"execute\": \"query-version\", \"id\": \"\\uD800\"}\n",
                        g + PE + "\\uD800 is not a valid Unicode character"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @Timeout(30)
    void badInputGetsQemusErrorsAndEveryoneIsStillServed(String name, String raw, List<String> replies)
            throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, false)) {
            c.sendLatin1(raw);
            for (String expected : replies) {
                String[] p = expected.split("\\|", 3);
                JsonNode r = c.next();
                assertError(r, p[0], p[1]);
                assertEquals(p.length == 3 ? p[2] : null, r.has("id") ? r.get("id").toString() : null, r.toString());
            }
            assertStillServed(c);
        }
    }

    private void assertStillServed(QmpClient same) {
        assertEquals("\"after\"", same.execute("query-version", null, "\"after\"").get("id").toString());
        ret(other.execute("query-version", null, null));
    }

    @Test
    @Timeout(30)
    void beforeNegotiationEveryOtherCommandIsNotFoundButShapeErrorsAreReported() throws Exception {
        try (QmpClient c = QmpClient.connect(a)) {
            c.next();
            assertError(c.execute("query-version", null, "1"), "CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
            assertError(c.execute("nosuch", null, "1"), "CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
            c.send("{\"execute\": 1, \"id\": 2}\n");
            assertError(c.reply(), "GenericError", "QMP input member 'execute' must be a string");
            assertError(c.execute("qmp_capabilities", "{\"enable\": [\"nosuch\"]}", "4"), "GenericError",
                    "Parameter 'null' does not accept value 'nosuch'");
            assertError(c.execute("qmp_capabilities", "{\"enable\": \"oob\"}", "5"), "GenericError",
                    "Invalid parameter type for 'enable', expected: array");
            ret(c.execute("qmp_capabilities", "{\"enable\": [\"oob\", \"oob\"]}", "6"));
            ret(c.execute("query-version", null, null));
        }
    }

    @Test
    @Timeout(30)
    void oneValueSplitAcrossWritesAndSeveralInOneWrite() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, false)) {
            c.send("{\"execute\": \"query-");
            c.send("version\",\n \"id\"");
            c.send(": 1}{'execute': 'query-version', 'id': 'it\\'s'}");
            assertEquals(1, c.reply().get("id").asInt());
            assertEquals("it's", c.reply().get("id").asText());
            assertStillServed(c);
        }
    }

    @Test
    @Timeout(60)
    void tooDeeplyNestedInputTripsTheLimitAndCascadesLikeQemu() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, false)) {
            int depth = 1024;   // plus the request object: 1025 open at once
            c.send("{\"execute\": \"query-version\", \"id\": " + "[".repeat(depth) + "]".repeat(depth) + "}\n");
            assertError(c.next(), "GenericError", "JSON nesting depth limit exceeded");
            for (int i = 0; i < depth + 1; i++) {
                assertError(c.next(), "GenericError", PE + "expecting value");
            }
            assertStillServed(c);
        }
    }

    @Test
    @Timeout(120)
    void aValueBeyond64MiBTripsTheTokenSizeLimit() throws Exception {
        try (QmpClient c = QmpClient.negotiated(a, false)) {
            String big = "x".repeat(33 << 20);
            byte[] req = ("{\"execute\": \"query-version\", \"id\": [\"" + big + "\", \"" + big + "\"]}\n")
                    .getBytes(StandardCharsets.US_ASCII);
            big = null;
            c.sendBytes(req);
            assertError(c.next(), "GenericError", "JSON token size limit exceeded");
            assertError(c.next(), "GenericError", PE + "expecting value");
            assertError(c.next(), "GenericError", PE + "expecting value");
            assertStillServed(c);
        }
    }

    @Test
    @Timeout(30)
    void aClientLeavingMidRequestOrMidCommandDisturbsNobody() throws Exception {
        QmpClient first = QmpClient.negotiated(a, false);
        first.send("{\"execute\": \"x-test-slow\"}\n{\"execute\": \"query-version\", \"id\": \"queued\"}\n"
                + "{\"execute\": \"query-ver");
        assertEquals(true, slow.entered.await(20, TimeUnit.SECONDS));
        first.close();
        try (QmpClient next = QmpClient.connect(a)) {
            slow.release.countDown();   // the running command finishes; its reply goes nowhere
            JsonNode greeting = next.next();
            assertEquals(List.of("oob"), Collections.list(Collections.enumeration(
                    toStrings(greeting.get("QMP").get("capabilities")))));
            // a fresh parser and negotiation state: the half request of the first client is gone
            assertError(next.execute("query-version", null, "1"), "CommandNotFound", null);
            ret(next.execute("qmp_capabilities", null, null));
            assertStillServed(next);
        }
    }

    private static List<String> toStrings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
