package qmpd.qmp.json;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * QEMU's JSON lexer (qobject/json-lexer.c, QEMU 7.2), byte by byte. Besides RFC 8259 it accepts
 * single-quoted strings and the escape {@code \'}; it leaves keyword, escape and UTF-8 checks to
 * the parser. After a lexical error it skips input until a structural character, an ASCII control
 * character other than TAB, or a 0xFE/0xFF byte: that is how a client resynchronises
 * (docs/interop/qmp-spec.rst "Forcing the JSON parser into known-good state").
 *
 * <p>Not thread-safe: owned by one monitor connection.
 */
final class JsonLexer {
    /** A single token may not grow beyond this (QEMU MAX_TOKEN_SIZE, 64 MiB). */
    static final int MAX_TOKEN_SIZE = 64 << 20;

    private enum State {
        START, RECOVERY, DQ, DQ_ESC, SQ, SQ_ESC, ZERO, SIGN, DIGITS,
        MANTISSA, MANTISSA_DIGITS, EXP_E, EXP_SIGN, EXP_DIGITS, KEYWORD
    }

    private final Consumer<JsonToken> sink;
    private final ByteArrayOutputStream token = new ByteArrayOutputStream();
    private State state = State.START;

    JsonLexer(Consumer<JsonToken> sink) {
        this.sink = sink;
    }

    /** Feeds one byte; tokens are handed to the sink as soon as they are complete. */
    void feed(int b) {
        b &= 0xFF;
        boolean consumed = false;
        while (!consumed) {
            consumed = step(b);
        }
        if (token.size() > MAX_TOKEN_SIZE) {
            emit(JsonToken.Type.OVERSIZE);
            state = State.START;
        }
    }

    /** Forgets a partial token (a new client starts from scratch). */
    void reset() {
        token.reset();
        state = State.START;
    }

    /** One transition; false when the byte was only looked at and must be fed again in START. */
    private boolean step(int c) {
        switch (state) {
            case START -> start(c);
            case RECOVERY -> {
                if ((c < 0x20 && c != '\t') || c >= 0xFE || c == '[' || c == ']' || c == '{' || c == '}'
                        || c == ':' || c == ',') {
                    state = State.START;
                    return false;
                }
            }
            case DQ, SQ -> {
                int quote = state == State.DQ ? '"' : '\'';
                if (c < 0x20 || c >= 0xFE) {
                    error(c);
                } else {
                    token.write(c);
                    if (c == '\\') {
                        state = state == State.DQ ? State.DQ_ESC : State.SQ_ESC;
                    } else if (c == quote) {
                        emit(JsonToken.Type.STRING);
                    }
                }
            }
            case DQ_ESC, SQ_ESC -> {
                if (c < 0x20 || c >= 0xFE) {
                    error(c);
                } else {
                    token.write(c);
                    state = state == State.DQ_ESC ? State.DQ : State.SQ;
                }
            }
            case ZERO -> {
                if (isDigit(c)) {
                    error(c);
                } else if (c == '.') {
                    more(c, State.MANTISSA);
                } else {
                    return lookahead(JsonToken.Type.INTEGER);
                }
            }
            case SIGN -> {
                if (c == '0') {
                    more(c, State.ZERO);
                } else if (c >= '1' && c <= '9') {
                    more(c, State.DIGITS);
                } else {
                    error(c);
                }
            }
            case DIGITS -> {
                if (isDigit(c)) {
                    more(c, State.DIGITS);
                } else if (c == 'e' || c == 'E') {
                    more(c, State.EXP_E);
                } else if (c == '.') {
                    more(c, State.MANTISSA);
                } else {
                    return lookahead(JsonToken.Type.INTEGER);
                }
            }
            case MANTISSA -> {
                if (isDigit(c)) {
                    more(c, State.MANTISSA_DIGITS);
                } else {
                    error(c);
                }
            }
            case MANTISSA_DIGITS -> {
                if (isDigit(c)) {
                    more(c, State.MANTISSA_DIGITS);
                } else if (c == 'e' || c == 'E') {
                    more(c, State.EXP_E);
                } else {
                    return lookahead(JsonToken.Type.FLOAT);
                }
            }
            case EXP_E -> {
                if (c == '-' || c == '+') {
                    more(c, State.EXP_SIGN);
                } else if (isDigit(c)) {
                    more(c, State.EXP_DIGITS);
                } else {
                    error(c);
                }
            }
            case EXP_SIGN -> {
                if (isDigit(c)) {
                    more(c, State.EXP_DIGITS);
                } else {
                    error(c);
                }
            }
            case EXP_DIGITS -> {
                if (isDigit(c)) {
                    more(c, State.EXP_DIGITS);
                } else {
                    return lookahead(JsonToken.Type.FLOAT);
                }
            }
            case KEYWORD -> {
                if (c >= 'a' && c <= 'z') {
                    more(c, State.KEYWORD);
                } else {
                    return lookahead(JsonToken.Type.KEYWORD);
                }
            }
        }
        return true;
    }

    private void start(int c) {
        switch (c) {
            case '"' -> more(c, State.DQ);
            case '\'' -> more(c, State.SQ);
            case '0' -> more(c, State.ZERO);
            case '-' -> more(c, State.SIGN);
            case '{' -> single(c, JsonToken.Type.LCURLY);
            case '}' -> single(c, JsonToken.Type.RCURLY);
            case '[' -> single(c, JsonToken.Type.LSQUARE);
            case ']' -> single(c, JsonToken.Type.RSQUARE);
            case ':' -> single(c, JsonToken.Type.COLON);
            case ',' -> single(c, JsonToken.Type.COMMA);
            case ' ', '\t', '\r', '\n' -> { }
            default -> {
                if (c >= '1' && c <= '9') {
                    more(c, State.DIGITS);
                } else if (c >= 'a' && c <= 'z') {
                    more(c, State.KEYWORD);
                } else {
                    error(c);
                }
            }
        }
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private void more(int c, State next) {
        token.write(c);
        state = next;
    }

    private void single(int c, JsonToken.Type type) {
        token.write(c);
        emit(type);
    }

    /** The token ended just before {@code c}: emit it, then lex {@code c} again from START. */
    private boolean lookahead(JsonToken.Type type) {
        emit(type);
        return false;
    }

    /** The bad byte belongs to the error token (QEMU prints it in "stray '...'"). */
    private void error(int c) {
        token.write(c);
        emit(JsonToken.Type.ERROR);
        state = State.RECOVERY;
    }

    private void emit(JsonToken.Type type) {
        byte[] text = token.toByteArray();
        token.reset();
        state = State.START;
        sink.accept(new JsonToken(type, text));
    }
}
