package qmpd.qmp.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a byte stream into top-level JSON values the way QEMU does (qobject/json-streamer.c):
 * a value is complete when its braces and brackets balance (or go negative: a stray closer is a
 * complete, invalid value), so objects may share a line, span lines or arrive split across reads.
 *
 * <p>Per value it enforces QEMU's limits; when one trips, the error is reported at once, the
 * tokens so far are dropped and counting restarts in the middle of the value, so the rest of the
 * value produces a cascade of errors exactly as in QEMU 7.2.
 *
 * <p>Not thread-safe: owned by one monitor connection.
 */
public final class JsonStreamer {
    /** Total bytes of the tokens of one value (QEMU MAX_TOKEN_SIZE). */
    static final long MAX_TOKEN_SIZE = 64L << 20;
    /** Tokens in one value (QEMU MAX_TOKEN_COUNT). */
    static final int MAX_TOKEN_COUNT = 2 << 20;
    /** Open braces plus brackets (QEMU MAX_NESTING). */
    static final int MAX_NESTING = 1 << 10;

    /** Receives each complete value, or the error that replaced it. */
    public interface Sink {
        /** Exactly one of {@code value} and {@code error} is non-null. */
        void onValue(JsonNode value, String error);
    }

    private final Sink sink;
    private final JsonLexer lexer = new JsonLexer(this::onToken);
    private final List<JsonToken> tokens = new ArrayList<>();
    private int braceCount;
    private int bracketCount;
    private long tokenSize;

    public JsonStreamer(Sink sink) {
        this.sink = sink;
    }

    /** Feeds one input byte; may call the sink, which may in turn stop the caller from feeding more. */
    public void feed(int b) {
        lexer.feed(b);
    }

    /** Drops any partial value: used when a new client connects. */
    public void reset() {
        lexer.reset();
        tokens.clear();
        braceCount = 0;
        bracketCount = 0;
        tokenSize = 0;
    }

    private void onToken(JsonToken token) {
        switch (token.type()) {
            case LCURLY -> braceCount++;
            case RCURLY -> braceCount--;
            case LSQUARE -> bracketCount++;
            case RSQUARE -> bracketCount--;
            case ERROR -> {
                emit(null, "JSON parse error, stray '" + Utf8.decodeLenient(token.text()) + "'");
                return;
            }
            default -> { }
        }
        if (tokenSize + token.text().length + 1 > MAX_TOKEN_SIZE) {
            emit(null, "JSON token size limit exceeded");
            return;
        }
        if (tokens.size() + 1 > MAX_TOKEN_COUNT) {
            emit(null, "JSON token count limit exceeded");
            return;
        }
        if (bracketCount + braceCount > MAX_NESTING) {
            emit(null, "JSON nesting depth limit exceeded");
            return;
        }
        tokens.add(token);
        tokenSize += token.text().length;
        if ((braceCount > 0 || bracketCount > 0) && braceCount >= 0 && bracketCount >= 0) {
            return;
        }
        JsonNode value;
        try {
            value = new JsonParser(tokens).parse();
        } catch (JsonParser.ParseError e) {
            emit(null, "JSON parse error, " + e.getMessage());
            return;
        }
        emit(value, null);
    }

    private void emit(JsonNode value, String error) {
        braceCount = 0;
        bracketCount = 0;
        tokens.clear();
        tokenSize = 0;
        sink.onValue(value, error);
    }
}
