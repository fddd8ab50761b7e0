package qmpd.config.keyval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Parses QEMU's {@code KEY=VALUE,...} option strings exactly as util/keyval.c does.
 *
 * <pre>
 *   key-vals     = [ key-val { ',' key-val } [ ',' ] ]
 *   key-val      = key '=' val
 *   key          = key-fragment { '.' key-fragment }
 *   key-fragment = / [^=,.]+ /        a QAPI name, or decimal digits below the root
 *   val          = { / [^,]* / | ',,' }
 *   key-vals-ik  = val-no-key [ ',' key-vals ]     with an implied key
 * </pre>
 *
 * Dotted keys build nested objects; an object whose keys are all decimal numbers becomes a
 * list (no gaps allowed, any order, "01" and "1" are the same index). The last of several
 * values for one key wins. Leaves are always strings: {@link InputVisitor} converts them to
 * the types an option schema asks for. A parameter {@code help} or {@code ?} without a value
 * requests help instead of naming a key.
 *
 * <p>Stateless and thread-safe.
 */
public final class KeyvalParser {
    /** QEMU stores a key fragment in a 128-byte buffer: at most 127 characters. */
    private static final int MAX_FRAGMENT = 127;

    /** What {@link #parse} found: the tree, and whether {@code help} was among the parameters. */
    public record Result(ObjectNode tree, boolean helpRequested) {}

    private KeyvalParser() {}

    /**
     * Parses {@code params}; the first parameter may omit {@code impliedKey=} when
     * {@code impliedKey} is not null (it may itself be dotted, e.g. {@code eins.zwei}).
     * When {@code helpAllowed} is false, a {@code help} parameter is an error
     * ("Help is not available for this option"), as for QEMU's --blockdev.
     *
     * @throws KeyvalException with QEMU's message when the string is malformed
     */
    public static Result parse(String params, String impliedKey, boolean helpAllowed) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        boolean[] help = {false};
        int pos = 0;
        String implied = impliedKey;
        while (pos < params.length()) {
            pos = parseOne(root, params, pos, implied, help);
            implied = null;
        }
        if (help[0] && !helpAllowed) {
            throw new KeyvalException("Help is not available for this option");
        }
        listify(root);
        return new Result(root, help[0]);
    }

    /** {@link #parse} without help: for callers that never print help. */
    public static ObjectNode parse(String params, String impliedKey) {
        return parse(params, impliedKey, false).tree();
    }

    /** Parses one KEY=VALUE starting at {@code start}; returns where the next one starts. */
    private static int parseOne(ObjectNode root, String params, int start, String impliedKey, boolean[] help) {
        String key = params;
        int keyStart = start;
        int len = strcspn(params, start, "=,");
        int valEnd = -1;
        if (len > 0 && (start + len == params.length() || params.charAt(start + len) != '=')) {
            if (startsWithHelpOption(params, start) == len) {
                help[0] = true;
                int s = start + len;
                return s < params.length() && params.charAt(s) == ',' ? s + 1 : s;
            }
            if (impliedKey != null) {
                key = impliedKey;          // desugar the implied key
                keyStart = 0;
                valEnd = start + len;
                len = impliedKey.length();
            }
        }
        boolean isImplied = valEnd >= 0;
        int keyEnd = keyStart + len;

        // Loop over key fragments: s is the current fragment, it applies to cur.
        ObjectNode cur = root;
        String keyInCur = null;
        int s = keyStart;
        for (;;) {
            int fragLen;
            int indexEnd = s != keyStart ? indexEnd(key, s, keyEnd) : -1;
            if (indexEnd >= 0) {
                fragLen = indexEnd - s;
            } else {
                fragLen = Math.max(0, qapiNameLength(key, s, keyEnd));
            }
            if (fragLen == 0 || (s + fragLen < keyEnd && key.charAt(s + fragLen) != '.')) {
                throw new KeyvalException("Invalid parameter '" + key.substring(keyStart, keyEnd) + "'");
            }
            if (fragLen > MAX_FRAGMENT) {
                boolean fragment = s != keyStart || s + fragLen != keyEnd;
                throw new KeyvalException("Parameter" + (fragment ? " fragment" : "") + " '"
                        + key.substring(s, s + fragLen) + "' is too long");
            }
            if (s != keyStart) {
                cur = (ObjectNode) put(cur, keyInCur, null, key, keyStart, s - 1);
            }
            keyInCur = key.substring(s, s + fragLen);
            s += fragLen;
            if (s >= keyEnd || key.charAt(s) != '.') {
                break;
            }
            s++;
        }

        String value;
        int next;
        if (isImplied) {
            value = params.substring(start, valEnd);
            next = valEnd < params.length() && params.charAt(valEnd) == ',' ? valEnd + 1 : valEnd;
        } else {
            if (s >= params.length() || params.charAt(s) != '=') {
                throw new KeyvalException("Expected '=' after parameter '" + params.substring(keyStart, s) + "'");
            }
            s++;
            StringBuilder val = new StringBuilder();
            while (s < params.length()) {
                char c = params.charAt(s);
                if (c == ',') {
                    s++;
                    if (s >= params.length() || params.charAt(s) != ',') {
                        break;
                    }
                }
                val.append(params.charAt(s++));
            }
            value = val.toString();
            next = s;
        }
        put(cur, keyInCur, value, key, keyStart, keyEnd);
        return next;
    }

    /**
     * Makes {@code cur.keyInCur} an object (value null) or the string {@code value}, unless it
     * already is the other kind. {@code key[from, to)} names the key in the error message
     * (built only then: a key with many fragments must not cost a copy per fragment).
     */
    private static JsonNode put(ObjectNode cur, String keyInCur, String value, String key, int from, int to) {
        JsonNode old = cur.get(keyInCur);
        if (old != null) {
            if (old.isObject() == (value != null)) {
                throw new KeyvalException("Parameters '" + key.substring(from, to) + ".*' used inconsistently");
            }
            if (value == null) {
                return old;
            }
        }
        JsonNode node = value == null ? JsonNodeFactory.instance.objectNode() : TextNode.valueOf(value);
        cur.set(keyInCur, node);
        return node;
    }

    /**
     * Replaces every object whose keys are all list indexes by a list, bottom-up.
     * Iterative, so that a key with thousands of fragments cannot exhaust the stack.
     */
    private static void listify(ObjectNode root) {
        List<Node> preorder = new ArrayList<>();
        ArrayDeque<Node> todo = new ArrayDeque<>();
        todo.push(new Node(root, null, null));
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            preorder.add(n);
            List<Node> children = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.obj.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue() instanceof ObjectNode child) {
                    children.add(new Node(child, n, e.getKey()));
                }
            }
            for (int i = children.size() - 1; i >= 0; i--) {
                todo.push(children.get(i));
            }
        }
        for (int i = preorder.size() - 1; i >= 0; i--) {
            Node n = preorder.get(i);
            boolean hasIndex = false;
            boolean hasMember = false;
            for (Iterator<String> it = n.obj.fieldNames(); it.hasNext(); ) {
                if (keyToIndex(it.next()) >= 0) {
                    hasIndex = true;
                } else {
                    hasMember = true;
                }
            }
            if (hasIndex && hasMember) {
                throw new KeyvalException("Parameters '" + reassemble(n) + "*' used inconsistently");
            }
            if (!hasIndex) {
                continue;
            }
            int nelt = n.obj.size() + 1;             // one extra, as a sentinel
            JsonNode[] elt = new JsonNode[nelt];
            long maxIndex = -1;
            for (Iterator<Map.Entry<String, JsonNode>> it = n.obj.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int index = keyToIndex(e.getKey());
                maxIndex = Math.max(maxIndex, index);
                if (index < nelt - 1) {
                    elt[index] = e.getValue();       // "1" and "01" are one index: the last wins
                }
            }
            ArrayNode list = JsonNodeFactory.instance.arrayNode();
            for (int j = 0; j < Math.min(nelt, maxIndex + 1); j++) {
                if (elt[j] == null) {
                    throw new KeyvalException("Parameter '" + reassemble(n) + j + "' missing");
                }
                list.add(elt[j]);
            }
            n.parent.obj.set(n.key, list);
        }
    }

    /** An object of the parsed tree, with the way back to the root for error messages. */
    private record Node(ObjectNode obj, Node parent, String key) {}

    /** The key leading to {@code n}, each fragment followed by '.', as QEMU's reassemble_key. */
    private static String reassemble(Node n) {
        StringBuilder sb = new StringBuilder();
        for (Node p = n; p.key != null; p = p.parent) {
            sb.insert(0, p.key + ".");
        }
        return sb.toString();
    }

    /**
     * Converts a whole key fragment to a list index: leading decimal digits, capped at
     * Integer.MAX_VALUE. Returns -1 when it is not all digits (QEMU's key_to_index with end NULL).
     */
    static int keyToIndex(String key) {
        int end = indexEnd(key, 0, key.length());
        if (end != key.length()) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < end; i++) {
            v = v * 10 + (key.charAt(i) - '0');
            if (v > Integer.MAX_VALUE) {
                return Integer.MAX_VALUE;
            }
        }
        return (int) v;
    }

    /** End of the run of decimal digits starting at {@code s}, or -1 when there is none. */
    private static int indexEnd(String key, int s, int end) {
        int i = s;
        while (i < end && key.charAt(i) >= '0' && key.charAt(i) <= '9') {
            i++;
        }
        return i == s ? -1 : i;
    }

    /**
     * QEMU's parse_qapi_name(s, false): length of the QAPI name at {@code s}
     * ({@code [A-Za-z][A-Za-z0-9_-]*}, optionally after a downstream {@code __RFQDN_} prefix),
     * or -1.
     */
    static int qapiNameLength(String str, int s, int end) {
        int p = s;
        if (p < end && str.charAt(p) == '_') {
            p++;
            if (p >= end || str.charAt(p) != '_') {
                return -1;
            }
            p++;
            while (p < end && (isAlnum(str.charAt(p)) || str.charAt(p) == '-' || str.charAt(p) == '.')) {
                p++;
            }
            if (p >= end || str.charAt(p) != '_') {
                return -1;
            }
            p++;
        }
        if (p >= end || !isAlpha(str.charAt(p))) {
            return -1;
        }
        p++;
        while (p < end && (isAlnum(str.charAt(p)) || str.charAt(p) == '-' || str.charAt(p) == '_')) {
            p++;
        }
        return p - s;
    }

    /** QEMU's starts_with_help_option: 1 for "?", 4 for "help...", else 0. */
    private static int startsWithHelpOption(String s, int at) {
        if (at < s.length() && s.charAt(at) == '?') {
            return 1;
        }
        return s.startsWith("help", at) ? 4 : 0;
    }

    private static int strcspn(String s, int from, String reject) {
        int i = from;
        while (i < s.length() && reject.indexOf(s.charAt(i)) < 0) {
            i++;
        }
        return i - from;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isAlnum(char c) {
        return isAlpha(c) || (c >= '0' && c <= '9');
    }
}
