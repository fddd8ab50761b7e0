package qmpd.qmp.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Output formatting and the streamer, without sockets. */
class QmpJsonWriterTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "1500.0, 1500", "0.1, 0.10000000000000001", "1.8446744073709552e19, 1.8446744073709552e+19",
        "-9223372036854775809.0, -9.2233720368547758e+18", "1e-5, 1.0000000000000001e-05",
        "123456.789, 123456.789", "1e16, 10000000000000000", "1e17, 1e+17", "0.0001, 0.0001",
        "-2.5e-7, -2.4999999999999999e-07", "4.9e-324, 4.9406564584124654e-324",
        "1.7976931348623157e308, 1.7976931348623157e+308", "12345678901234567.0, 12345678901234568", "-0.0, -0"})
    void doublesPrintLikeCsPercent17g(double value, String expected) {
        assertEquals(expected, QmpJsonWriter.formatDouble(value));
    }

    private static List<String> feed(String input) {
        List<String> out = new ArrayList<>();
        JsonStreamer s = new JsonStreamer((JsonNode v, String err) ->
                out.add(err != null ? "error:" + err : QmpJsonWriter.write(v, false)));
        for (byte b : input.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)) {
            s.feed(b);
        }
        return out;
    }

    @Test
    void valuesAreSplitByBalanceNotByLines() {
        assertEquals(List.of("{\"a\": [1, 2]}", "{\"b\": \"it's\"}", "7"),
                feed("{\"a\":\n[1,2]}{'b': 'it\\'s'} 7 "));
        assertEquals(List.of(), feed("{\"incomplete\": "));
    }

    @Test
    void outputIsAsciiWithUpperCaseEscapes() {
        assertEquals(List.of("[\"caf\\u00E9\", \"\\uD83D\\uDE00\", \"\\u007F\", \"/\"]"),
                feed("[\"caf\u00c3\u00a9\", \"\\ud83d\\ude00\", \"\\u007f\", \"\\/\"]"));
    }

    @Test
    void integersBeyondInt64BecomeUnsignedThenDoubles() {
        assertEquals(List.of("[9223372036854775807, 18446744073709551615, 1.8446744073709552e+19, -9.2233720368547758e+18]"),
                feed("[9223372036854775807, 18446744073709551615, 18446744073709551616, -9223372036854775809]"));
    }

    @Test
    void prettyOutputIndentsByFourLikeQemu() {
        JsonStreamer s = new JsonStreamer((v, e) -> assertEquals("{\n    \"a\": [\n        1\n    ],\n    \"b\": {\n    }\n}",
                QmpJsonWriter.write(v, true)));
        for (byte b : "{\"a\": [1], \"b\": {}}".getBytes()) {
            s.feed(b);
        }
    }
}
