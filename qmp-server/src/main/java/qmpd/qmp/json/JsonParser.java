package qmpd.qmp.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.List;

/**
 * Builds a Jackson tree from the tokens of one complete value, with QEMU's error texts
 * (qobject/json-parser.c). Integers that fit int64 become long nodes, larger non-negative ones up
 * to 2^64-1 big-integer nodes, anything else a double, as QEMU's QNum does. Duplicate keys are an
 * error, as in QEMU 7.2.
 */
final class JsonParser {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** A syntax error; the message follows "JSON parse error, ". */
    static final class ParseError extends Exception {
        ParseError(String message) {
            super(message, null, false, false);
        }
    }

    private final List<JsonToken> tokens;
    private int next;

    JsonParser(List<JsonToken> tokens) {
        this.tokens = tokens;
    }

    JsonNode parse() throws ParseError {
        return value();
    }

    private JsonToken peek() throws ParseError {
        if (next >= tokens.size()) {
            throw new ParseError("premature EOI");
        }
        return tokens.get(next);
    }

    private JsonToken pop() throws ParseError {
        JsonToken t = peek();
        next++;
        return t;
    }

    private JsonNode value() throws ParseError {
        JsonToken t = peek();
        return switch (t.type()) {
            case LCURLY -> object();
            case LSQUARE -> array();
            case INTEGER, FLOAT, STRING -> literal(pop());
            case KEYWORD -> keyword(pop());
            default -> throw new ParseError("expecting value");
        };
    }

    private JsonNode keyword(JsonToken t) throws ParseError {
        return switch (t.latin1()) {
            case "true" -> NODES.booleanNode(true);
            case "false" -> NODES.booleanNode(false);
            case "null" -> NODES.nullNode();
            default -> throw new ParseError("invalid keyword '" + t.latin1() + "'");
        };
    }

    private ObjectNode object() throws ParseError {
        pop();
        ObjectNode dict = NODES.objectNode();
        if (peek().type() == JsonToken.Type.RCURLY) {
            pop();
            return dict;
        }
        pair(dict);
        for (JsonToken t = pop(); t.type() != JsonToken.Type.RCURLY; t = pop()) {
            if (t.type() != JsonToken.Type.COMMA) {
                throw new ParseError("expected separator in dict");
            }
            pair(dict);
        }
        return dict;
    }

    private void pair(ObjectNode dict) throws ParseError {
        peek();
        JsonNode key = value();
        if (!key.isTextual()) {
            throw new ParseError("key is not a string in object");
        }
        if (pop().type() != JsonToken.Type.COLON) {
            throw new ParseError("missing : in object pair");
        }
        JsonNode value = value();
        if (dict.has(key.textValue())) {
            throw new ParseError("duplicate key");
        }
        dict.set(key.textValue(), value);
    }

    private ArrayNode array() throws ParseError {
        pop();
        ArrayNode list = NODES.arrayNode();
        if (peek().type() == JsonToken.Type.RSQUARE) {
            pop();
            return list;
        }
        list.add(value());
        for (JsonToken t = pop(); t.type() != JsonToken.Type.RSQUARE; t = pop()) {
            if (t.type() != JsonToken.Type.COMMA) {
                throw new ParseError("expected separator in list");
            }
            list.add(value());
        }
        return list;
    }

    private JsonNode literal(JsonToken t) throws ParseError {
        String text = t.latin1();
        switch (t.type()) {
            case STRING -> {
                return NODES.textNode(Utf8.parseString(t.text()));
            }
            case INTEGER -> {
                try {
                    return NODES.numberNode(Long.parseLong(text));
                } catch (NumberFormatException e) {
                    if (text.charAt(0) != '-') {
                        BigInteger u = new BigInteger(text);
                        if (u.compareTo(U64_MAX) <= 0) {
                            return NODES.numberNode(u);
                        }
                    }
                    return NODES.numberNode(Double.parseDouble(text));
                }
            }
            default -> {
                return NODES.numberNode(Double.parseDouble(text));
            }
        }
    }
}
