package qmpd.qmp.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The per-value limit on tokens (QEMU's MAX_TOKEN_COUNT, 2 Mi) trips at exactly the first token
 * over it, reports at once, and after the documented resynchronisation the next request parses.
 * (Nesting and size limits are checked over a socket in MalformedInputTest.)
 */
class JsonStreamerLimitsTest {
    private final List<JsonNode> values = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private final JsonStreamer streamer = new JsonStreamer((v, e) -> {
        values.add(v);
        errors.add(e);
    });

    private void feed(String s) {
        for (byte b : s.getBytes(StandardCharsets.ISO_8859_1)) {
            streamer.feed(b & 0xff);
        }
    }

    @Test
    @Timeout(60)
    void theTokenAfterTwoMebiTokensTripsTheCountLimit() {
        feed("[");   // token 1
        // "1," is two tokens: after n pairs, 1 + 2n tokens are held; the limit allows 2 Mi.
        int pairs = (JsonStreamer.MAX_TOKEN_COUNT - 1) / 2;
        feed("1,".repeat(pairs));
        feed("1");   // token number 2 Mi: still within the limit
        assertEquals(List.of(), errors, "nothing reported at the limit");
        feed(",");   // one over
        assertEquals(1, errors.size());
        assertEquals("JSON token count limit exceeded", errors.getFirst());
        assertNull(values.getFirst());

        feed("\u00ff{\"execute\": \"query-version\"}");
        assertNotNull(values.getLast(), "after 0xFF the next request parses: " + errors.getLast());
        assertEquals("query-version", values.getLast().path("execute").asText());
    }
}
