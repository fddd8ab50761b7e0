package qmpd.qmp.json;

/**
 * One lexical token of QMP input (QEMU qobject/json-lexer.c {@code JSONTokenType}).
 *
 * @param type what the lexer recognised
 * @param text the raw bytes of the token, owned by the token (strings keep their quotes and escapes)
 */
record JsonToken(Type type, byte[] text) {

    enum Type { LCURLY, RCURLY, LSQUARE, RSQUARE, COLON, COMMA, INTEGER, FLOAT, KEYWORD, STRING, ERROR, OVERSIZE }

    /** The token text as Latin-1; exact for every token but strings. */
    String latin1() {
        return new String(text, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
