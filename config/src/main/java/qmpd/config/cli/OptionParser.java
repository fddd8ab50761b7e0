package qmpd.config.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import qmpd.config.keyval.InputVisitor;
import qmpd.config.keyval.KeyvalException;
import qmpd.config.keyval.KeyvalParser;
import qmpd.config.keyval.Schema;

/**
 * Turns one option argument into a validated, typed tree, as QEMU's
 * qobject_input_visitor_new_str() followed by the option's visit_type_X() does: an argument
 * starting with '{' is JSON (typed values), anything else is keyval (string values converted
 * by the schema). Errors are {@link KeyvalException}s worded as QEMU words them.
 *
 * <p>Stateless and thread-safe.
 */
public final class OptionParser {
    /**
     * Reads option JSON the way QEMU's JSON parser does: single-quoted strings allowed,
     * duplicate keys rejected. A private mapper: only this class reads option JSON, and
     * the shared QMP mapper must not get these parser features.
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_SINGLE_QUOTES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private OptionParser() {}

    /**
     * Parses and validates {@code arg} as {@code type}; {@code impliedKey} is the key the
     * first keyval parameter may omit (null for none). Help is refused, as QEMU refuses it
     * for --blockdev, --export, --monitor and --nbd-server.
     */
    public static ObjectNode parse(String arg, String impliedKey, Schema.Type type) {
        if (arg.startsWith("{")) {
            return InputVisitor.visitObject(type, parseJson(arg), InputVisitor.Mode.JSON);
        }
        return InputVisitor.visitObject(type, KeyvalParser.parse(arg, impliedKey), InputVisitor.Mode.KEYVAL);
    }

    /**
     * Parses a JSON object the way QEMU's qobject_from_json() reports errors: "JSON parse
     * error, ..." or "Expecting at most one JSON value".
     */
    public static JsonNode parseJson(String text) {
        JsonNode node;
        try (JsonParser p = JSON.createParser(text)) {
            node = JSON.readTree(p);
            if (node != null && hasMore(p)) {
                throw new KeyvalException("Expecting at most one JSON value");
            }
        } catch (JsonEOFException e) {
            throw new KeyvalException("JSON parse error, premature EOI");
        } catch (StreamConstraintsException e) {
            throw new KeyvalException(e.getMessage() != null && e.getMessage().contains("nesting")
                    ? "JSON parse error, too many nested containers"
                    : "JSON parse error, " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new KeyvalException("JSON parse error, " + jsonReason(e));
        } catch (RuntimeException e) {
            if (e instanceof KeyvalException) {
                throw e;
            }
            throw new KeyvalException("JSON parse error, " + e.getMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new KeyvalException("JSON parse error, premature EOI");
        }
        return node;
    }

    /** Whether anything but white space follows the first value. */
    private static boolean hasMore(JsonParser p) {
        try {
            return p.nextToken() != null;
        } catch (IOException e) {
            return true;
        }
    }

    /** QEMU's words for the common JSON syntax errors; Jackson's own words for the rest. */
    private static String jsonReason(IOException e) {
        String m = e instanceof com.fasterxml.jackson.core.JacksonException je ? je.getOriginalMessage() : e.getMessage();
        if (m == null) {
            return "invalid input";
        }
        if (m.startsWith("Duplicate field")) {
            return "duplicate key";
        }
        if (m.contains("was expecting a colon")) {
            return "missing : in object pair";
        }
        if (m.startsWith("Unrecognized token '")) {
            int end = m.indexOf('\'', 20);
            return "invalid keyword '" + m.substring(20, end < 0 ? m.length() : end) + "'";
        }
        if (m.contains("was expecting comma to separate Object entries")) {
            return "expected separator in dict";
        }
        if (m.contains("was expecting comma to separate Array entries")) {
            return "expected separator in list";
        }
        if (m.startsWith("Unexpected close marker")) {
            return "expecting value";
        }
        if (m.startsWith("Unrecognized character escape")) {
            return "invalid escape sequence in string";
        }
        if (m.startsWith("Unexpected character ('}'") || m.startsWith("Unexpected character (']'")) {
            return "expecting value";
        }
        if (m.contains("was expecting double-quote to start field name")) {
            return "key is not a string in object";
        }
        if (m.startsWith("Unexpected character") && m.contains("expected a value")) {
            return "expecting value";
        }
        if (m.contains("Unexpected end-of-input")) {
            return "premature EOI";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

}
