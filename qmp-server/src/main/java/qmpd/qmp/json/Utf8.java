package qmpd.qmp.json;

import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** String decoding with QEMU's rules (qobject/json-parser.c parse_string, util/unicode.c). */
final class Utf8 {
    private Utf8() {
    }

    /** Decodes bytes for an error message: invalid sequences become U+FFFD, as QEMU prints them. */
    static String decodeLenient(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new AssertionError(e);   // REPLACE never throws
        }
    }

    /** Decodes a string token including its quotes; escapes and UTF-8 are checked here. */
    static String parseString(byte[] t) throws JsonParser.ParseError {
        StringBuilder out = new StringBuilder(t.length);
        byte quote = t[0];
        int i = 1;
        while (t[i] != quote) {
            int c = t[i] & 0xFF;
            if (c == '\\') {
                int beg = i;
                i++;
                int e = t[i++] & 0xFF;
                switch (e) {
                    case '"' -> out.append('"');
                    case '\'' -> out.append('\'');
                    case '\\' -> out.append('\\');
                    case '/' -> out.append('/');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        int cp = hex4(t, i);
                        i += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < t.length && t[i] == '\\' && t[i + 1] == 'u') {
                            int trailing = hex4(t, i + 2);
                            if (trailing >= 0xDC00 && trailing <= 0xDFFF) {
                                cp = 0x10000 + ((cp & 0x3FF) << 10) | (trailing & 0x3FF);
                                i += 6;
                            } else {
                                cp = -1;
                            }
                        }
                        if (cp != 0 && !validCodePoint(cp)) {
                            String seq = new String(t, beg, Math.min(i, t.length - 1) - beg,
                                    StandardCharsets.ISO_8859_1);
                            throw new JsonParser.ParseError(seq + " is not a valid Unicode character");
                        }
                        out.appendCodePoint(cp);
                    }
                    default -> throw new JsonParser.ParseError("invalid escape sequence in string");
                }
            } else {
                int[] len = new int[1];
                int cp = codePoint(t, i, len);
                if (cp < 0) {
                    throw new JsonParser.ParseError("invalid UTF-8 sequence in string");
                }
                out.appendCodePoint(cp);
                i += len[0];
            }
        }
        return out.toString();
    }

    private static int hex4(byte[] t, int at) {
        int cp = 0;
        for (int k = 0; k < 4; k++) {
            if (at + k >= t.length) {
                return -1;
            }
            int d = Character.digit(t[at + k], 16);
            if (d < 0) {
                return -1;
            }
            cp = cp << 4 | d;
        }
        return cp;
    }

    /** QEMU's is_valid_codepoint: no surrogates, no noncharacters, nothing beyond U+10FFFF. */
    static boolean validCodePoint(int cp) {
        if (cp < 0 || cp > 0x10FFFF) {
            return false;
        }
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
            return false;
        }
        return cp < 0xD800 || cp > 0xDFFF;
    }

    /**
     * Decodes one modified-UTF-8 sequence (QEMU mod_utf8_codepoint): overlong forms are invalid
     * except C0 80 for U+0000.
     */
    private static int codePoint(byte[] t, int at, int[] len) {
        int b0 = t[at] & 0xFF;
        if (b0 < 0x80) {
            len[0] = 1;
            return b0;
        }
        int n;
        int cp;
        if ((b0 & 0xE0) == 0xC0) {
            n = 2;
            cp = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            n = 3;
            cp = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            n = 4;
            cp = b0 & 0x07;
        } else {
            return -1;
        }
        for (int k = 1; k < n; k++) {
            if (at + k >= t.length || ((t[at + k] & 0xC0) != 0x80)) {
                return -1;
            }
            cp = cp << 6 | (t[at + k] & 0x3F);
        }
        len[0] = n;
        if (n == 2 && cp == 0) {
            return 0;
        }
        int min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || !validCodePoint(cp)) {
            return -1;
        }
        return cp;
    }
}
