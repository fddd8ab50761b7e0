package qmpd.config.keyval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * QEMU's tests/unit/test-keyval.c (test_keyval_parse, test_keyval_parse_list), case by case,
 * with the messages util/keyval.c produces. Where qemu-storage-daemon 7.2 shows the message,
 * the command that printed it is noted.
 */
class KeyvalParserTest {
    /** The tree as compact JSON with ' for ", to keep expectations readable. */
    private static String parse(String params, String implied) {
        return KeyvalParser.parse(params, implied, true).tree().toString().replace('"', '\'');
    }

    private static String error(String params, String implied) {
        return assertThrows(KeyvalException.class, () -> KeyvalParser.parse(params, implied, false)).getMessage();
    }

    @Test
    void nothing() {
        assertEquals("{}", parse("", null));
    }

    @Test
    void emptyKeysAndFragmentsAreInvalid() {
        // qemu-storage-daemon --blockdev =x
        assertEquals("Invalid parameter ''", error("=val", null));
        assertEquals("Invalid parameter '.'", error(".", null));
        // qemu-storage-daemon --blockdev a.=1
        assertEquals("Invalid parameter 'key.'", error("key.", null));
        // qemu-storage-daemon --blockdev 7up=1
        assertEquals("Invalid parameter '7up'", error("7up=val", null));
        // qemu-storage-daemon --blockdev 'a[0]=1'
        assertEquals("Invalid parameter 'key[0]'", error("key[0]=val", null));
        // qemu-storage-daemon --blockdev driver=null-co,x.1a=1
        assertEquals("Invalid parameter 'x.1a'", error("x.1a=1", null));
    }

    @Test
    void keyLengthLimits() {
        String longKey = "a".repeat(127) + "z";   // 128 characters: one too many
        // qemu-storage-daemon --blockdev driver=null-co,<128 a>=1
        assertEquals("Parameter '" + longKey + "' is too long", error(longKey + "=v", null));
        // qemu-storage-daemon --blockdev driver=null-co,x.<128 a>=1
        assertEquals("Parameter fragment '" + longKey + "' is too long", error("k." + longKey + "=v", null));
        String ok = longKey.substring(1);
        assertEquals("{'" + ok + "':'v'}", parse(ok + "=v", null));
        assertEquals("{'k':{'" + ok + "':'v'}}", parse("k." + ok + "=v", null));
    }

    @Test
    void lastValueWinsAndCommasEscape() {
        assertEquals("{'a':'3','b':'2,x'}", parse("a=1,b=2,,x,a=3", null));
        assertEquals("{'id':'bar'}", parse("id=foo,id=bar", null));
        assertEquals("{'x':',id=bar'}", parse("x=,,id=bar", null));
        assertEquals("{'id':'666'}", parse("id=666", null));
        assertEquals("{'x':'y'}", parse("x=y,", null));       // a trailing comma is ignored
        assertEquals("{'x':''}", parse("x=", null));
    }

    @Test
    void dottedKeysNest() {
        assertEquals("{'a':{'b':{'c':'2'}},'d':'3'}", parse("a.b.c=1,a.b.c=2,d=3", null));
    }

    @Test
    void inconsistentDottedKeys() {
        // qemu-storage-daemon --blockdev driver=null-co,a.b=1,a=2
        assertEquals("Parameters 'a.*' used inconsistently", error("a.b=1,a=2", null));
        // qemu-storage-daemon --blockdev driver=null-co,a=1,a.b=2
        assertEquals("Parameters 'a.*' used inconsistently", error("a=1,a.b=2", null));
        assertEquals("Parameters 'a.b.*' used inconsistently", error("a.b=1,a.b.c=2", null));
    }

    @Test
    void loneCommaIsInvalid() {
        // qemu-storage-daemon --blockdev ,
        assertEquals("Invalid parameter ''", error(",", null));
        assertEquals("Invalid parameter ''", error(",", "implied"));
        assertEquals("Invalid parameter ''", error(",,,a=1", "implied"));
    }

    @Test
    void impliedValueIsNotSupportedWithoutImpliedKey() {
        assertEquals("Expected '=' after parameter 'an'", error("an,noaus,noaus=", null));
        // qemu-storage-daemon --blockdev driver=null-co,no
        assertEquals("Expected '=' after parameter 'no'", error("no", null));
        // qemu-storage-daemon --nbd-server foo
        assertEquals("Expected '=' after parameter 'foo'", error("foo", null));
    }

    @Test
    void impliedKey() {
        assertEquals("{'implied':'an','aus':'off','noaus':''}", parse("an,aus=off,noaus=", "implied"));
        assertEquals("{'eins':{'zwei':'val'}}", parse("val", "eins.zwei"));
        // The implied value cannot hold a comma: qemu-storage-daemon --blockdev 'null-co,,x'
        assertEquals("Invalid parameter ''", error("val,,ue", "implied"));
        assertEquals("Invalid parameter ''", error("=val", "implied"));
        // Only the first parameter may omit its key.
        assertEquals("Expected '=' after parameter 'b'", error("a,b", "implied"));
    }

    @Test
    void help() {
        KeyvalParser.Result r = KeyvalParser.parse("help", null, true);
        assertTrue(r.helpRequested());
        assertEquals(0, r.tree().size());
        assertTrue(KeyvalParser.parse("help", "implied", true).helpRequested());
        assertTrue(KeyvalParser.parse("?", "implied", true).helpRequested());
        // qemu-storage-daemon --blockdev help, and --blockdev '?'
        assertEquals("Help is not available for this option", error("help", null));
        assertEquals("Help is not available for this option", error("help", "implied"));
        assertEquals("Help is not available for this option", error("?", "driver"));

        r = KeyvalParser.parse("help=on", null, true);
        assertFalse(r.helpRequested());
        assertEquals("{\"help\":\"on\"}", r.tree().toString());

        assertEquals("Expected '=' after parameter 'help.abc'", error("help.abc", null));
        r = KeyvalParser.parse("help.abc", "implied", true);
        assertFalse(r.helpRequested());
        assertEquals("{\"implied\":\"help.abc\"}", r.tree().toString());

        r = KeyvalParser.parse("number=42,help,foo=bar", null, true);
        assertTrue(r.helpRequested());
        assertEquals("{\"number\":\"42\",\"foo\":\"bar\"}", r.tree().toString());
        r = KeyvalParser.parse("val,help,foo=bar", "implied", true);
        assertTrue(r.helpRequested());
        assertEquals("{\"implied\":\"val\",\"foo\":\"bar\"}", r.tree().toString());
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,?=1
        assertEquals("Invalid parameter '?'", error("a=1,?=1", null));
    }

    @Test
    void lists() {
        // The root cannot be a list: qemu-storage-daemon --blockdev driver=null-co,0=1
        assertEquals("Invalid parameter '0'", error("0=1", null));
        assertEquals("{'list':['null','eins','zwei']}", parse("list.0=null,list.2=zwei,list.1=eins", null));
        // Several spellings of one index: the last wins.
        assertEquals("{'list':['null','eins','zwei']}",
                parse("list.1=goner,list.0=null,list.01=eins,list.2=zwei", null));
        assertEquals("{'a':{'list':['null','eins','zwei']}}",
                parse("a.list.1=eins,a.list.00=null,a.list.2=zwei", null));
        assertEquals("{'a':['','I',['II']]}", parse("a.0=,a.1=I,a.2.0=II", null));
        assertEquals("{'a':[{'b':'x'},{'c':'y'}]}", parse("a.0.b=x,a.1.c=y", null));
    }

    @Test
    void inconsistentLists() {
        assertEquals("Parameters 'a.b.*' used inconsistently", error("a.b.c=1,a.b.0=2", null));
        // qemu-storage-daemon --blockdev driver=null-co,a.0=1,a.b=2
        assertEquals("Parameters 'a.*' used inconsistently", error("a.0.c=1,a.b.c=2", null));
        assertEquals("Parameters 'a.*' used inconsistently", error("a.0=1,a.b=2", null));
    }

    @Test
    void listGaps() {
        // qemu-storage-daemon --blockdev driver=null-co,a.1=x
        assertEquals("Parameter 'list.0' missing", error("list.1=lonely", null));
        assertEquals("Parameter 'list.1' missing", error("list.0=null,list.2=eins,list.02=zwei", null));
        // An index too large to hold: the first missing one is reported.
        assertEquals("Parameter 'a.0' missing", error("a.99999999999999999999=x", null));
        assertEquals("Parameter 'a.1' missing", error("a.0=x,a.2147483647=y", null));
    }

    @Test
    void downstreamNames() {
        assertEquals("{'__com.example_x':'1'}", parse("__com.example_x=1", null));
        assertEquals("Invalid parameter '_x'", error("_x=1", null));
    }

    @Test
    void deepKeysAndLongValues() {
        // Walked iteratively: Jackson's own toString() would recurse this deep.
        com.fasterxml.jackson.databind.JsonNode n = KeyvalParser.parse("a.".repeat(50_000) + "b=1", null);
        for (int i = 0; i < 50_000; i++) {
            n = n.get("a");
        }
        assertEquals("1", n.get("b").asText());
        n = KeyvalParser.parse("l.".repeat(10_000) + "0=1", null);
        for (int i = 0; i < 10_000; i++) {
            n = n.get("l");
        }
        assertTrue(n.isArray());
        String value = "x".repeat(1 << 20);
        assertEquals(value, KeyvalParser.parse("k=" + value, null).get("k").asText());
    }

    @Test
    void unicodeValuesPassUnicodeKeysDoNot() {
        assertEquals("{'k':'\u00e9t\u00e9 \u2603'}", parse("k=\u00e9t\u00e9 \u2603", null));
        assertEquals("Invalid parameter '\u00e9'", error("\u00e9=1", null));
        assertEquals("{'implied':'\u2603'}", parse("\u2603", "implied"));
    }
}
