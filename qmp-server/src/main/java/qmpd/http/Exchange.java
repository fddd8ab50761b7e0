package qmpd.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.util.function.Consumer;
import qmpd.config.json.Json;

/**
 * One request and its response, with the JSON helpers every route uses.
 *
 * <p>Threading: created and used on the gateway's event loop; {@link #sendJson} may be called from
 * any thread (it hops back to the loop), so a QMP reply completed on the main loop can be sent
 * directly.
 */
final class Exchange {
    // Strict like QMP: duplicate keys and trailing values are errors, not silently merged or ignored.
    private static final ObjectReader READER = Json.mapper().readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    final HttpServerRequest req;
    private final Context loop;
    private final int bodyLimit;

    Exchange(HttpServerRequest req, Context loop, int bodyLimit) {
        this.req = req;
        this.loop = loop;
        this.bodyLimit = bodyLimit;
    }

    /** Runs {@code task} on the gateway's loop (from a main-loop completion, for example). */
    void onLoop(Runnable task) {
        loop.runOnContext(v -> task.run());
    }

    /** Runs {@code task} on the loop after {@code delayMs}; returns the timer's id. Loop only. */
    long timer(long delayMs, Runnable task) {
        return loop.owner().setTimer(delayMs, id -> task.run());
    }

    void cancelTimer(long id) {
        loop.owner().cancelTimer(id);
    }

    HttpServerResponse response() {
        return req.response();
    }

    /** Sends {@code body} as JSON with {@code status}; any thread. */
    void sendJson(int status, JsonNode body) {
        String text;
        try {
            text = Json.mapper().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);   // a tree always serialises
        }
        loop.runOnContext(v -> {
            HttpServerResponse rsp = req.response();
            if (!rsp.ended() && !rsp.closed()) {
                rsp.setStatusCode(status).putHeader("Content-Type", "application/json").end(text + "\n");
            }
        });
    }

    /** Sends an error of the QMP shape. */
    void sendError(int status, String errorClass, String desc) {
        sendJson(status, HttpErrors.body(errorClass, desc));
    }

    /**
     * Reads the body and parses it as one JSON value; {@code then} gets null for an empty body.
     * Over the limit: 413 (at once when Content-Length says so), then the connection closes.
     * Not JSON: 400 with the parser's message.
     */
    void readJson(Consumer<JsonNode> then) {
        String declared = req.getHeader("Content-Length");
        if (declared != null && parseLong(declared) > bodyLimit) {
            tooLarge();
            return;
        }
        Buffer body = Buffer.buffer();
        boolean[] over = {false};
        req.handler(chunk -> {
            if (over[0]) {
                return;
            }
            if (body.length() + chunk.length() > bodyLimit) {
                over[0] = true;
                tooLarge();
            } else {
                body.appendBuffer(chunk);
            }
        });
        req.endHandler(v -> {
            if (over[0]) {
                return;
            }
            if (body.length() == 0) {
                then.accept(null);
                return;
            }
            JsonNode value;
            try {
                value = READER.readTree(body.getBytes());
            } catch (JsonProcessingException e) {
                sendError(400, "GenericError", "Invalid JSON: " + e.getOriginalMessage());
                return;
            } catch (IOException e) {
                sendError(400, "GenericError", "Invalid JSON: " + e.getMessage());
                return;
            }
            then.accept(value);
        });
    }

    private void tooLarge() {
        // Closing is the only way to stop a client that keeps sending; it learns why first.
        response().putHeader("Connection", "close");
        sendError(413, "GenericError", "Request body larger than " + bodyLimit + " bytes");
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;   // Vert.x's codec rejects it before us; count it as small here
        }
    }
}
