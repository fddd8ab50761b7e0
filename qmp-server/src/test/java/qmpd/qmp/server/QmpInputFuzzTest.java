package qmpd.qmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import qmpd.config.fuzz.FuzzInput;
import qmpd.config.fuzz.FuzzRuns;
import qmpd.loop.IOThreadRegistry;
import qmpd.loop.MainLoop;
import qmpd.qmp.QmpEvents;
import qmpd.qmp.block.BlockCommands;
import qmpd.qmp.block.BlockService;
import qmpd.qmp.command.CommandRegistry;
import qmpd.qmp.command.QmpContext;
import qmpd.qmp.command.StandardCommands;
import qmpd.qmp.json.JsonStreamer;
import qmpd.qmp.json.QmpJsonWriter;
import qmpd.qmp.qom.AioIOThreads;
import qmpd.qmp.qom.QomObjects;

/**
 * Fuzzes the QMP input path in process: bytes go through the JSON streamer (lexer, limits, parser)
 * exactly as a connection feeds them, and every value or parse error becomes a reply through the
 * real dispatcher and the full command set of the daemon (block commands included), running on a
 * real main loop. For every input:
 * <ul>
 *   <li>every reply is an object with exactly one of {@code return} and {@code error}, an error
 *       has a known QMP class and a non-empty {@code desc}, and it serialises to valid JSON;</li>
 *   <li>no command fails with anything but a {@code QmpException} (the dispatcher counts such
 *       failures as "internal"), and every reply arrives (a hang fails the input);</li>
 *   <li>after the input, the documented resynchronisation (a 0xFF byte) brings the parser back:
 *       the next request is parsed and answered.</li>
 * </ul>
 * Inputs are either raw bytes or requests generated from the registered schema
 * ({@link QmpRequestGenerator}) and then optionally cut or spliced.
 */
class QmpInputFuzzTest {
    private static final Set<String> CLASSES = Set.of("GenericError", "CommandNotFound", "DeviceNotFound",
            "DeviceNotActive", "KVMMissingCap");
    private static final ObjectMapper STRICT = new ObjectMapper();
    private static final List<byte[]> DICTIONARY = FuzzRuns.words("{", "}", "[", "]", ":", ",", "\"", "'",
            "\"execute\"", "\"exec-oob\"", "\"arguments\"", "\"id\"", "\"qmp_capabilities\"", "\"query-version\"",
            "\"blockdev-add\"", "\"driver\"", "\"node-name\"", "true", "false", "null", "1e400", "-0",
            "18446744073709551616", "\\u0000", "\\ud800", "\\udc00", "\\x", "\u00e9", "\ud83d\ude00", "\n",
            "\u0001", "\t");

    private static final Harness H = new Harness();

    /** The daemon's command set on a real main loop, as Main wires it, with a sandbox directory. */
    static final class Harness {
        final MainLoop mainLoop = new MainLoop().start();
        final IOThreadRegistry iothreads = new IOThreadRegistry();
        final QmpEvents events = new QmpEvents();
        final BlockService block = new BlockService(mainLoop.context(), iothreads, events);
        final QomObjects objects = new QomObjects(new AioIOThreads(iothreads), block);
        final CommandRegistry registry =
                BlockCommands.register(StandardCommands.register(new CommandRegistry(), objects), block);
        final QmpStats stats = new QmpStats(events, () -> 0);   // no monitors listen in this harness
        final QmpDispatcher dispatcher = new QmpDispatcher(registry, mainLoop.context()::runOnce, stats);
        final Path sandbox;
        final QmpRequestGenerator generator;

        Harness() {
            try {
                sandbox = Files.createTempDirectory("qmp-fuzz");
                try (var f = java.nio.channels.FileChannel.open(sandbox.resolve("disk"),
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                    f.truncate(0);
                    f.write(java.nio.ByteBuffer.allocate(1), (1 << 20) - 1);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            generator = new QmpRequestGenerator(registry, sandbox);
        }

        void close() {
            CompletableFuture<Void> done = new CompletableFuture<>();
            mainLoop.context().runOnce("fuzz:teardown", () -> {
                try {
                    block.shutdown();
                    objects.stopAll();
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            done.join();
            mainLoop.stop();
            try (var files = Files.walk(sandbox)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** One client session: negotiation state as a connection keeps it. */
    private static final class Session implements QmpContext.Session {
        private volatile boolean negotiated;

        Session(boolean negotiated) {
            this.negotiated = negotiated;
        }

        @Override
        public Set<String> offeredCapabilities() {
            return Set.of("oob");
        }

        @Override
        public boolean negotiated() {
            return negotiated;
        }

        @Override
        public void completeNegotiation(Set<String> enabled) {
            negotiated = true;
        }
    }

    private record Ctx(Session session, Harness h) implements QmpContext {
        @Override
        public QmpContext.Session session() {
            return session;
        }

        @Override
        public QmpEvents events() {
            return h.events;
        }

        @Override
        public CommandRegistry registry() {
            return h.registry;
        }

        @Override
        public void requestShutdown() {
            // quit asks the owner to stop the daemon; here the request is noted and ignored
        }
    }

    @AfterAll
    static void tearDown() {
        // How deep the inputs got: successful commands by name (the figure docs/reliability.md gives).
        StringBuilder ok = new StringBuilder();
        H.stats.commandSeries().stream().filter(c -> c.outcome().equals(QmpReply.OK))
                .sorted(java.util.Comparator.comparing(qmpd.metrics.QmpCounters.CommandSeries::command))
                .forEach(c -> ok.append(' ').append(c.command()).append('=').append(c.count()));
        System.out.println("fuzz QmpInputFuzzTest: commands that succeeded:" + ok);
        H.close();
    }

    /** The bytes a fuzz input stands for: raw, or generated requests cut and spliced. */
    static byte[] bytes(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int mode = in.nextInt(4);
        if (mode == 0) {
            return in.rest();
        }
        StringBuilder text = new StringBuilder();
        for (int n = 1 + in.nextInt(3); n > 0 && !in.exhausted(); n--) {
            text.append(QmpJsonWriter.write(H.generator.request(in), in.nextInt(4) == 0));
            switch (in.nextInt(8)) {
                case 0 -> text.setLength(in.nextInt(text.length() + 1));   // truncated
                case 1 -> text.insert(in.nextInt(text.length() + 1), in.nextString(8));
                case 2 -> text.append(text, 0, Math.min(text.length(), in.nextInt(64)));
                default -> { }
            }
            text.append(in.nextInt(4) == 0 ? "" : "\n");
        }
        byte[] generated = text.toString().getBytes(StandardCharsets.UTF_8);
        byte[] tail = in.rest();
        byte[] out = java.util.Arrays.copyOf(generated, generated.length + tail.length);
        System.arraycopy(tail, 0, out, generated.length, tail.length);
        return out;
    }

    @FuzzTest(maxDuration = "60s")
    @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
    void qmpInput(byte[] data) throws Exception {
        Session session = new Session(data.length > 0 && (data[0] & 0x80) != 0);
        Ctx ctx = new Ctx(session, H);
        List<JsonNode> values = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        JsonStreamer streamer = new JsonStreamer((value, error) -> {
            values.add(value);
            errors.add(error);
        });
        for (byte b : bytes(data)) {
            streamer.feed(b & 0xff);
        }
        int before = values.size();
        // The documented way to resynchronise, then a request that must be parsed and answered.
        for (byte b : "\u00ff{\"execute\": \"query-version\", \"id\": \"probe\"}".getBytes(StandardCharsets.ISO_8859_1)) {
            streamer.feed(b & 0xff);
        }
        assertTrue(values.size() > before, "the request after 0xFF completes a value");
        JsonNode last = values.getLast();
        assertNotNull(last, "the request after 0xFF parses; error: " + errors.getLast());
        assertEquals("probe", last.path("id").asText());
        for (int i = 0; i < values.size(); i++) {
            ObjectNode rsp = errors.get(i) != null
                    ? QmpDispatcher.errorResponse(null, "GenericError", errors.get(i))
                    : reply(H.generator.sandboxDeep(values.get(i)), ctx);
            checkReply(rsp);
            if (i == values.size() - 1 && session.negotiated()) {
                assertTrue(rsp.has("return"), "query-version answered after resync: " + rsp);
            }
        }
    }

    private static ObjectNode reply(JsonNode request, Ctx ctx) throws Exception {
        QmpReply r;
        try {
            r = H.dispatcher.execute(request, ctx, true).toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("no reply within 20 s to " + request);
            return null;
        }
        assertNotEquals(QmpReply.INTERNAL, r.outcome(), () -> "an internal failure answering " + request + ": "
                + r.response());
        return r.response();
    }

    private static void checkReply(ObjectNode rsp) throws IOException {
        assertNotNull(rsp);
        assertTrue(rsp.has("return") ^ rsp.has("error"), () -> "exactly one of return/error: " + rsp);
        if (rsp.has("error")) {
            JsonNode e = rsp.get("error");
            assertTrue(CLASSES.contains(e.path("class").asText()), () -> "a known class: " + rsp);
            assertTrue(e.path("desc").isTextual() && !e.path("desc").asText().isEmpty(), () -> "a desc: " + rsp);
        }
        // QEMU 7.2 spells a non-finite number as printf's inf/-inf/nan (an id of 1e400 comes back as
        // "id": inf, seen with qemu-storage-daemon), and we match it: those nodes are the one thing
        // allowed to be invalid JSON, so they are set aside before the check.
        String wire = QmpJsonWriter.write(withoutNonFinite(rsp.deepCopy()), false);
        assertEquals(rsp.has("return"), STRICT.readTree(wire).has("return"), "the reply is valid JSON: " + wire);
    }

    private static JsonNode withoutNonFinite(JsonNode v) {
        if (v instanceof ObjectNode o) {
            o.properties().forEach(e -> e.setValue(withoutNonFinite(e.getValue())));
        } else if (v instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, withoutNonFinite(a.get(i)));
            }
        } else if (v.isDouble() && !Double.isFinite(v.doubleValue())) {
            return com.fasterxml.jackson.databind.node.NullNode.instance;
        }
        return v;
    }

    /** Found by this fuzzer: the non-finite id QEMU echoes as {@code inf}; we echo it the same way. */
    @Test
    void nonFiniteIdIsEchoedAsQemuDoes() throws Exception {
        JsonNode[] got = new JsonNode[1];
        JsonStreamer streamer = new JsonStreamer((value, error) -> got[0] = value);
        for (byte b : "{\"execute\": \"query-version\", \"id\": -11e400}".getBytes(StandardCharsets.US_ASCII)) {
            streamer.feed(b);
        }
        ObjectNode rsp = reply(got[0], new Ctx(new Session(true), H));
        checkReply(rsp);
        assertTrue(QmpJsonWriter.write(rsp, false).endsWith(", \"id\": -inf}"), rsp::toString);
    }

    @Test
    @Timeout(120)
    void qmpInputRandomRun() {
        FuzzRuns.run(getClass(), "qmpInput", 8_000, 1024, DICTIONARY, this::qmpInput);
    }
}
