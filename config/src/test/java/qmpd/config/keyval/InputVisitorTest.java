package qmpd.config.keyval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static qmpd.config.keyval.Schema.BOOL;
import static qmpd.config.keyval.Schema.INT;
import static qmpd.config.keyval.Schema.INT32;
import static qmpd.config.keyval.Schema.NUMBER;
import static qmpd.config.keyval.Schema.SIZE;
import static qmpd.config.keyval.Schema.STR;
import static qmpd.config.keyval.Schema.UINT64;
import static qmpd.config.keyval.Schema.UINT8;
import static qmpd.config.keyval.Schema.listOf;
import static qmpd.config.keyval.Schema.opt;
import static qmpd.config.keyval.Schema.req;
import static qmpd.config.keyval.Schema.struct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * Typed conversion: QEMU's test_keyval_visit_* cases (tests/unit/test-keyval.c) plus the
 * JSON visitor's rules, each with the message qobject-input-visitor.c produces.
 */
class InputVisitorTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static JsonNode kv(Schema.Type t, String params) {
        return InputVisitor.visit(t, KeyvalParser.parse(params, null), InputVisitor.Mode.KEYVAL, null);
    }

    private static String kvError(Schema.Type t, String params) {
        return assertThrows(KeyvalException.class, () -> kv(t, params)).getMessage();
    }

    private static JsonNode json(Schema.Type t, String json) throws Exception {
        return InputVisitor.visit(t, M.readTree(json), InputVisitor.Mode.JSON, null);
    }

    private static String jsonError(Schema.Type t, String json) {
        return assertThrows(KeyvalException.class, () -> json(t, json)).getMessage();
    }

    private static Schema.Struct two(Schema.Type t) {
        return struct("T", opt("x", t), opt("y", t));
    }

    @Test
    void booleans() {
        Schema.Struct s = two(BOOL);
        assertEquals("{\"x\":true,\"y\":false}", kv(s, "x=on,y=off").toString());
        for (String t : new String[] {"on", "yes", "true", "y"}) {
            assertEquals(true, kv(s, "x=" + t).get("x").booleanValue());
        }
        for (String f : new String[] {"off", "no", "false", "n"}) {
            assertEquals(false, kv(s, "x=" + f).get("x").booleanValue());
        }
        assertEquals("Parameter 'x' expects 'on' or 'off'", kvError(s, "x=offer"));
        assertEquals("Parameter 'x' expects 'on' or 'off'", kvError(s, "x=1"));
        assertEquals("Parameter 'x' expects 'on' or 'off'", kvError(s, "x="));
    }

    @Test
    void uint64() {
        Schema.Struct s = two(UINT64);
        assertEquals("0", kv(s, "x=0").get("x").toString());
        assertEquals("{\"x\":18446744073709551615,\"y\":18446744073709551615}",
                kv(s, "x=18446744073709551615,y=-1").toString());
        assertEquals("Parameter 'x' expects integer", kvError(s, "x=18446744073709551616"));
        assertEquals("Parameter 'x' expects integer", kvError(s, "x=-18446744073709551616"));
        assertEquals("{\"x\":42,\"y\":42}", kv(s, "x=0x2a,y=052").toString());
        assertEquals("Parameter 'x' expects integer", kvError(s, "x=3.14"));
        assertEquals("Parameter 'y' expects integer", kvError(s, "x=0,y=08"));
    }

    @Test
    void intRanges() {
        assertEquals("Parameter 'x' expects integer", kvError(two(INT), "x=9223372036854775808"));
        assertEquals(Long.MIN_VALUE, kv(two(INT), "x=-9223372036854775808").get("x").longValue());
        assertEquals(5, kv(two(INT), "x= 5").get("x").longValue());     // strtoll skips white space
        assertEquals("Parameter 'x' expects int32_t", kvError(two(INT32), "x=2147483648"));
        assertEquals("Parameter 'x' expects uint8_t", kvError(two(UINT8), "x=256"));
        assertEquals("Parameter 'x' expects uint8_t", kvError(two(UINT8), "x=-1"));
        // Range errors name the member alone, type errors its whole path (qapi-visit-core.c).
        Schema.Struct outer = struct("O", opt("a", two(UINT8)));
        assertEquals("Parameter 'x' expects uint8_t", kvError(outer, "a.x=300"));
        assertEquals("Parameter 'a.x' expects integer", kvError(outer, "a.x=z"));
    }

    @Test
    void sizes() {
        Schema.Struct s = struct("S", opt("sz1", SIZE), opt("sz2", SIZE), opt("sz3", SIZE), opt("sz4", SIZE),
                opt("sz5", SIZE));
        assertEquals("0", kv(s, "sz1=0").get("sz1").toString());
        assertEquals("{\"sz1\":9007199254740991,\"sz2\":9007199254740992,\"sz3\":9007199254740993}",
                kv(s, "sz1=9007199254740991,sz2=9007199254740992,sz3=9007199254740993").toString());
        assertEquals("{\"sz1\":9223372036854775807,\"sz2\":9223372036854775808,\"sz3\":9223372036854775809}",
                kv(s, "sz1=9223372036854775807,sz2=9223372036854775808,sz3=9223372036854775809").toString());
        assertEquals("{\"sz1\":18446744073709549568,\"sz2\":18446744073709550591}",
                kv(s, "sz1=18446744073709549568,sz2=18446744073709550591").toString());
        assertEquals("18446744073709551615", kv(s, "sz1=18446744073709551615").get("sz1").toString());
        assertEquals("Parameter 'sz1' expects size", kvError(s, "sz1=-1"));
        assertEquals("Parameter 'sz2' expects size", kvError(s, "sz2=18446744073709551616"));
        JsonNode n = kv(s, "sz1=8b,sz2=1.5k,sz3=2M,sz4=0.1G,sz5=16777215T");
        assertEquals(8, n.get("sz1").longValue());
        assertEquals(1536, n.get("sz2").longValue());
        assertEquals(2L << 20, n.get("sz3").longValue());
        assertEquals((1L << 30) / 10, n.get("sz4").longValue());
        assertEquals(16777215L << 40, n.get("sz5").longValue());
        assertEquals("Parameter 'sz1' expects size", kvError(s, "sz1=16777216T"));
        assertEquals("Parameter 'sz1' expects size", kvError(s, "sz1=0Z"));
        assertEquals("Parameter 'sz2' expects size", kvError(s, "sz2=16Gi"));
    }

    @Test
    void strtoszCorners() {
        assertEquals(BigInteger.valueOf(1024), InputVisitor.strtosz("1.k"));      // a dot without digits
        assertEquals(BigInteger.valueOf(1L << 60), InputVisitor.strtosz("1E"));
        assertEquals(BigInteger.valueOf(1536L << 50), InputVisitor.strtosz("1.5e"));   // e is exa, not an exponent
        assertEquals(BigInteger.valueOf(255), InputVisitor.strtosz("0xff"));
        assertEquals(null, InputVisitor.strtosz("1.5"));        // a fraction needs a suffix
        assertEquals(null, InputVisitor.strtosz("1.5e3k"));     // an exponent is invalid
        assertEquals(null, InputVisitor.strtosz("0x1k"));       // no suffix on hex
        assertEquals(null, InputVisitor.strtosz("16E"));        // 2^64
        assertEquals(null, InputVisitor.strtosz(""));
        assertEquals(null, InputVisitor.strtosz(".5k"));
        assertEquals(BigInteger.valueOf(5), InputVisitor.strtosz(" 5"));
    }

    @Test
    void numbers() {
        assertEquals(3.14, kv(two(NUMBER), "x=3.14").get("x").doubleValue());
        assertEquals(-1e3, kv(two(NUMBER), "x=-1e3").get("x").doubleValue());
        assertEquals("Invalid parameter type for 'x', expected: number", kvError(two(NUMBER), "x=inf"));
        assertEquals("Invalid parameter type for 'x', expected: number", kvError(two(NUMBER), "x=1e999"));
        assertEquals("Invalid parameter type for 'x', expected: number", kvError(two(NUMBER), "x=1f"));
    }

    @Test
    void dicts() {
        Schema.Struct s = struct("S", req("a", struct("A", req("b", struct("B", req("c", INT))))), req("d", INT));
        assertEquals("{\"a\":{\"b\":{\"c\":2}},\"d\":3}", kv(s, "a.b.c=1,a.b.c=2,d=3").toString());
        Schema.Struct s2 = struct("S", req("a", struct("A", req("c", INT))));
        assertEquals("Parameter 'a.c' is missing", kvError(s2, "a.b="));
        Schema.Struct s3 = struct("S", req("a", struct("A", opt("c", INT))));
        assertEquals("Parameter 'a.b' is unexpected", kvError(s3, "a.b="));
    }

    @Test
    void lists() {
        Schema.Struct s = struct("S", req("a", listOf(STR)), opt("b", listOf(listOf(STR))));
        assertEquals("{\"a\":[\"\",\"I\"]}", kv(s, "a.0=,a.1=I").toString());
        assertEquals("{\"a\":[\"x\"],\"b\":[[\"head\"]]}", kv(s, "a.0=x,b.0.0=head").toString());
        assertEquals("Parameters 'a.2.*' are unexpected", kvError(s, "a.0=,a.1=I,a.2.0=II"));
        Schema.Struct objs = struct("S", req("l", listOf(struct("E", req("n", INT)))));
        assertEquals("Parameter 'l.1.n' expects integer", kvError(objs, "l.0.n=1,l.1.n=x"));
        assertEquals("Invalid parameter type for 'l[1].n', expected: integer",
                jsonError(objs, "{\"l\":[{\"n\":1},{\"n\":\"x\"}]}"));
        assertEquals("Parameter 'l[0].m' is unexpected", jsonError(objs, "{\"l\":[{\"n\":1,\"m\":2}]}"));
    }

    @Test
    void alternates() {
        Schema.Struct obj = struct("O", req("n", INT));
        Schema.Struct s = struct("S", req("a", new Schema.Alternate("AltStrObj", STR, obj)),
                opt("b", new Schema.Alternate("AltObj", null, obj)));
        assertEquals("{\"a\":\"1\"}", kv(s, "a=1").toString());
        assertEquals("{\"a\":{\"n\":1}}", kv(s, "a.n=1").toString());
        assertEquals("Invalid parameter type for 'b', expected: AltObj", kvError(s, "a=1,b=2"));
        assertEquals("Invalid parameter type for 'a', expected: AltStrObj", jsonError(s, "{\"a\":true}"));
    }

    @Test
    void any() {
        Schema.Struct s = struct("S", req("a", Schema.ANY));
        assertEquals("{\"a\":[\"null\",\"1\"]}", kv(s, "a.0=null,a.1=1").toString());
    }

    @Test
    void enums() {
        Schema.Struct s = struct("S", req("mode", Schema.enumOf("M", "readline", "control")));
        assertEquals("{\"mode\":\"control\"}", kv(s, "mode=control").toString());
        assertEquals("Parameter 'mode' does not accept value 'Control'", kvError(s, "mode=Control"));
        assertEquals("Invalid parameter type for 'mode', expected: string", jsonError(s, "{\"mode\":1}"));
    }

    @Test
    void jsonScalars() throws Exception {
        Schema.Struct s = struct("S", opt("i", INT), opt("u", UINT64), opt("z", SIZE), opt("b", BOOL), opt("s", STR),
                opt("n", NUMBER));
        assertEquals("{\"i\":-1,\"u\":18446744073709551615,\"z\":1024,\"b\":true,\"s\":\"x\",\"n\":1.0}",
                json(s, "{\"i\":-1,\"u\":-1,\"z\":1024,\"b\":true,\"s\":\"x\",\"n\":1}").toString());
        assertEquals("18446744073709551615", json(s, "{\"u\":18446744073709551615}").get("u").toString());
        assertEquals("Invalid parameter type for 'i', expected: integer", jsonError(s, "{\"i\":9223372036854775808}"));
        assertEquals("Invalid parameter type for 'i', expected: integer", jsonError(s, "{\"i\":1.0}"));
        assertEquals("Parameter 'u' expects uint64", jsonError(s, "{\"u\":18446744073709551616}"));
        assertEquals("Parameter 'z' expects uint64", jsonError(s, "{\"z\":\"1k\"}"));
        assertEquals("Invalid parameter type for 'b', expected: boolean", jsonError(s, "{\"b\":\"on\"}"));
        assertEquals("Invalid parameter type for 's', expected: string", jsonError(s, "{\"s\":null}"));
        assertEquals("Invalid parameter type for 'n', expected: number", jsonError(s, "{\"n\":\"1\"}"));
        assertEquals("Invalid parameter type for 'l', expected: array",
                jsonError(struct("L", req("l", listOf(INT))), "{\"l\":{}}"));
    }

    @Test
    void rootNameLeadsEveryPath() throws Exception {
        Schema.Struct s = struct("S", req("size", INT), opt("l", listOf(INT)));
        assertEquals("Invalid parameter type for 'blockdevs[1].size', expected: integer",
                assertThrows(KeyvalException.class, () -> InputVisitor.visit(s, M.readTree("{\"size\":\"1G\"}"),
                        InputVisitor.Mode.JSON, "blockdevs[1]")).getMessage());
        assertEquals("Invalid parameter type for 'blockdevs[1].l[0]', expected: integer",
                assertThrows(KeyvalException.class, () -> InputVisitor.visit(s, M.readTree("{\"size\":1,\"l\":[\"x\"]}"),
                        InputVisitor.Mode.JSON, "blockdevs[1]")).getMessage());
        assertEquals("Invalid parameter type for 'blockdevs[1]', expected: object",
                assertThrows(KeyvalException.class, () -> InputVisitor.visit(s, M.readTree("5"),
                        InputVisitor.Mode.JSON, "blockdevs[1]")).getMessage());
    }

    @Test
    void recursionIsBounded() {
        Schema.Struct[] self = new Schema.Struct[1];
        self[0] = struct("R", opt("r", new Schema.Ref(() -> self[0])));
        String deep = "r.".repeat(InputVisitor.MAX_DEPTH + 5) + "r.r=x";
        String msg = kvError(self[0], deep.substring(0, deep.length() - 4) + "=x");
        assertEquals(true, msg.endsWith("' is nested too deeply"), msg);
    }
}
