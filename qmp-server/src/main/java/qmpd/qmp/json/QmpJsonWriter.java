package qmpd.qmp.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Map;

/**
 * Serialises a tree exactly as QEMU 7.2 prints it (qobject/qjson.c to_json, qobject/qnum.c):
 * members in QEMU's hash order ({@link QDictOrder}), separators {@code ", "} and {@code ": "}, pure ASCII with upper-case {@code \\uXXXX} escapes
 * (surrogate pairs beyond the BMP), doubles as C's {@code %.17g}; or indented by four spaces per
 * level when pretty. Line ends are {@code \n}; the connection turns them into CRLF.
 */
public final class QmpJsonWriter {
    private QmpJsonWriter() {
    }

    /** The compact or pretty text of {@code node}. */
    public static String write(JsonNode node, boolean pretty) {
        StringBuilder out = new StringBuilder(64);
        write(node, pretty, false, 0, out);
        return out.toString();
    }

    /** The compact text of {@code node} with its members in the tree's own order (already QEMU's). */
    public static String writeAsOrdered(JsonNode node) {
        StringBuilder out = new StringBuilder(64);
        write(node, false, true, 0, out);
        return out.toString();
    }

    private static void newline(StringBuilder out, boolean pretty, int indent) {
        if (pretty) {
            out.append('\n').repeat(' ', indent * 4);
        }
    }

    private static void write(JsonNode node, boolean pretty, boolean asOrdered, int indent, StringBuilder out) {
        switch (node.getNodeType()) {
            case NULL, MISSING -> out.append("null");
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case STRING -> string(node.textValue(), out);
            case NUMBER -> number(node, out);
            case OBJECT -> {
                out.append('{');
                String sep = "";
                for (Map.Entry<String, JsonNode> e : asOrdered ? node.properties() : QDictOrder.entries(node)) {
                    out.append(sep);
                    newline(out, pretty, indent + 1);
                    string(e.getKey(), out);
                    out.append(": ");
                    write(e.getValue(), pretty, asOrdered, indent + 1, out);
                    sep = pretty ? "," : ", ";
                }
                newline(out, pretty, indent);
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                String sep = "";
                for (JsonNode element : node) {
                    out.append(sep);
                    newline(out, pretty, indent + 1);
                    write(element, pretty, asOrdered, indent + 1, out);
                    sep = pretty ? "," : ", ";
                }
                newline(out, pretty, indent);
                out.append(']');
            }
            default -> out.append(node.asText());   // BINARY/POJO never reach the wire
        }
    }

    private static void number(JsonNode node, StringBuilder out) {
        if (node.isIntegralNumber()) {
            out.append(node.bigIntegerValue().toString());
        } else {
            out.append(formatDouble(node.doubleValue()));
        }
    }

    /** C's {@code printf("%.17g", d)}: 17 significant digits, trailing zeros stripped. */
    public static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(d).round(new MathContext(17, RoundingMode.HALF_EVEN));
        String digits = rounded.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - rounded.scale();   // decimal exponent of the first digit
        digits = digits.replaceFirst("0+$", "");
        if (digits.isEmpty()) {
            digits = "0";
        }
        StringBuilder s = new StringBuilder();
        if (d < 0) {
            s.append('-');
        }
        if (exponent < -4 || exponent >= 17) {
            s.append(digits.charAt(0));
            if (digits.length() > 1) {
                s.append('.').append(digits, 1, digits.length());
            }
            s.append('e').append(exponent < 0 ? '-' : '+');
            int abs = Math.abs(exponent);
            if (abs < 10) {
                s.append('0');
            }
            s.append(abs);
        } else if (exponent < 0) {
            s.append("0.").repeat('0', -exponent - 1).append(digits);
        } else if (digits.length() <= exponent + 1) {
            s.append(digits).repeat('0', exponent + 1 - digits.length());
        } else {
            s.append(digits, 0, exponent + 1).append('.').append(digits, exponent + 1, digits.length());
        }
        return s.toString();
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (cp >= 0xD800 && cp <= 0xDFFF) {
                        cp = 0xFFFD;   // a lone surrogate is not a character
                    }
                    if (cp > 0xFFFF) {
                        hex(out, 0xD800 + ((cp - 0x10000) >> 10));
                        hex(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
                    } else if (cp < 0x20 || cp >= 0x7F) {
                        hex(out, cp);
                    } else {
                        out.append((char) cp);
                    }
                }
            }
        }
        out.append('"');
    }

    private static void hex(StringBuilder out, int v) {
        out.append("\\u");
        String h = Integer.toHexString(v).toUpperCase(java.util.Locale.ROOT);
        out.repeat('0', 4 - h.length()).append(h);
    }
}
