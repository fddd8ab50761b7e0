package qmpd.config.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The command line against qemu-storage-daemon 7.2: each expected message is what
 * {@code qemu-storage-daemon <the same arguments>} printed on stderr (exit status 1), with
 * the program name replaced by qmpd. Where a message comes from applying an option rather
 * than parsing it (a missing node, a chardev that does not exist), the server reports it.
 */
class CommandLineTest {
    private static String error(String... argv) {
        return assertThrows(CliException.class, () -> CommandLine.parse(argv)).format("qmpd");
    }

    private static List<CliOption> run(String... argv) {
        return assertInstanceOf(CommandLine.Run.class, CommandLine.parse(argv)).options();
    }

    private static String stdout(String... argv) {
        return assertInstanceOf(CommandLine.Exit.class, CommandLine.parse(argv)).stdout();
    }

    private static String json(CliOption o) {
        return switch (o) {
            case CliOption.BlockdevOpt b -> b.args().toString();
            case CliOption.ObjectOpt b -> b.args().toString();
            case CliOption.ExportOpt b -> b.args().toString();
            case CliOption.NbdServerOpt b -> b.args().toString();
            case CliOption.ChardevOpt b -> b.args().toString();
            case CliOption.MonitorOpt b -> b.args().toString();
            case CliOption.HttpOpt b -> b.args().toString();
            default -> o.toString();
        };
    }

    private static String q(String s) {
        return s.replace('\'', '"');
    }

    // ---- getopt ----

    @Test
    void bothArgumentFormsAndOrderArePreserved() {
        List<CliOption> opts = run("--object", "iothread,id=io0", "--blockdev=driver=null-co,node-name=n0",
                "--blockdev", "null-co,node-name=n1,size=4096", "--pidfile", "/run/q.pid", "--daemonize");
        assertEquals(5, opts.size());
        assertEquals(q("{'qom-type':'iothread','id':'io0'}"), json(opts.get(0)));
        assertEquals(q("{'driver':'null-co','node-name':'n0'}"), json(opts.get(1)));
        assertEquals("--blockdev=driver=null-co,node-name=n0", opts.get(1).source());
        assertEquals(q("{'driver':'null-co','node-name':'n1','size':4096}"), json(opts.get(2)));
        assertEquals("--blockdev null-co,node-name=n1,size=4096", opts.get(2).source());
        assertEquals(Path.of("/run/q.pid"), ((CliOption.PidfileOpt) opts.get(3)).path());
        assertInstanceOf(CliOption.Daemonize.class, opts.get(4));
    }

    @Test
    void abbreviations() {
        // qemu-storage-daemon --blockd driver=null-co,node-name=a   (runs)
        assertInstanceOf(CliOption.BlockdevOpt.class, run("--blockd", "driver=null-co,node-name=a").getFirst());
        assertInstanceOf(CliOption.Daemonize.class, run("--d").getFirst());   // qemu-storage-daemon --d
        assertTrue(stdout("--hel").startsWith("Usage: qmpd [options]\n"));   // qemu-storage-daemon --hel
        assertTrue(stdout("--v").startsWith("qmpd version "));                 // qemu-storage-daemon --v
        // --h is ambiguous once qmpd adds --http (glibc's wording, as `ls --co` prints it)
        assertEquals("qmpd: option '--h' is ambiguous; possibilities: '--help' '--http'", error("--h"));
    }

    @Test
    void getoptErrors() {
        // qemu-storage-daemon --foo
        assertEquals("qmpd: unrecognized option '--foo'", error("--foo"));
        // qemu-storage-daemon --foo=bar
        assertEquals("qmpd: unrecognized option '--foo=bar'", error("--foo=bar"));
        // qemu-storage-daemon --help2
        assertEquals("qmpd: unrecognized option '--help2'", error("--help2"));
        // qemu-storage-daemon -x
        assertEquals("qmpd: invalid option -- 'x'", error("-x"));
        // qemu-storage-daemon --blockdev
        assertEquals("qmpd: option '--blockdev' requires an argument", error("--blockdev"));
        // qemu-storage-daemon --pidfile
        assertEquals("qmpd: option '--pidfile' requires an argument", error("--pidfile"));
        // qemu-storage-daemon --trace
        assertEquals("qmpd: option '--trace' requires an argument", error("--trace"));
        // qemu-storage-daemon -T
        assertEquals("qmpd: option requires an argument -- 'T'", error("-T"));
        // qemu-storage-daemon --daemonize=x
        assertEquals("qmpd: option '--daemonize' doesn't allow an argument", error("--daemonize=x"));
        // qemu-storage-daemon --version=1
        assertEquals("qmpd: option '--version' doesn't allow an argument", error("--version=1"));
        // qemu-storage-daemon extra
        assertEquals("qmpd: extra: Unexpected argument", error("extra"));
        // qemu-storage-daemon -
        assertEquals("qmpd: -: Unexpected argument", error("-"));
    }

    @Test
    void firstPassBeatsSecondPass() {
        // qemu-storage-daemon --object iothread,id=x --bogus
        assertEquals("qmpd: unrecognized option '--bogus'", error("--object", "iothread,id=x", "--bogus"));
        // qemu-storage-daemon --blockdev x --pidfile
        assertEquals("qmpd: option '--pidfile' requires an argument", error("--blockdev", "x", "--pidfile"));
        // qemu-storage-daemon --blockdev x -h     (prints help, exit 0)
        assertTrue(stdout("--blockdev", "x", "-h").startsWith("Usage: qmpd"));
        // qemu-storage-daemon extra -h
        assertTrue(stdout("extra", "-h").startsWith("Usage: qmpd"));
        // qemu-storage-daemon --foo -h
        assertEquals("qmpd: unrecognized option '--foo'", error("--foo", "-h"));
        // qemu-storage-daemon --blockdev x -V
        assertTrue(stdout("--blockdev", "x", "-V").startsWith("qmpd version"));
        // qemu-storage-daemon -hV / -Vh: the first wins
        assertTrue(stdout("-hV").startsWith("Usage"));
        assertTrue(stdout("-Vh").startsWith("qmpd version"));
        // qemu-storage-daemon --blockdev x extra: the second pass goes in order
        assertEquals("qmpd: --blockdev x: Parameter 'driver' does not accept value 'x'",
                error("--blockdev", "x", "extra"));
    }

    @Test
    void doubleDashEndsOptions() {
        // qemu-storage-daemon -- --blockdev   (7.2 ignores the rest and runs)
        assertEquals(List.of(), run("--", "--blockdev"));
        assertEquals(List.of(), run("--", "extra"));
    }

    @Test
    void trace() {
        CliOption.TraceOpt t = (CliOption.TraceOpt) run("-Tfoo").getFirst();
        assertEquals("foo", t.spec());
        assertEquals("enable=foo*,file=/tmp/t",
                ((CliOption.TraceOpt) run("--trace", "enable=foo*,file=/tmp/t").getFirst()).spec());
        assertEquals("bar", ((CliOption.TraceOpt) run("-T", "bar").getFirst()).spec());
    }

    @Test
    void helpAndVersion() {
        String help = stdout("--help");
        assertTrue(help.contains("  --blockdev [driver=]<driver>[,node-name=<N>][,discard=ignore|unmap]\n"));
        assertTrue(help.contains("  --http [host=<host>,]port=<port>[,token-file=<file>]\n"));
        assertTrue(help.contains("  --config <file>"));
        assertTrue(!help.contains("qemu-storage-daemon [options]"));
        assertEquals(help, stdout("-h"));
        assertTrue(stdout("-V").startsWith("qmpd version "));
    }

    // ---- --blockdev ----

    @Test
    void blockdevTypedValues() {
        assertEquals(q("{'driver':'file','node-name':'f','discard':'unmap','cache':{'direct':true,'no-flush':false},"
                        + "'read-only':true,'detect-zeroes':'unmap','filename':'/tmp/a,b','locking':'off','aio':'io_uring'}"),
                json(run("--blockdev", "driver=file,node-name=f,filename=/tmp/a,,b,aio=io_uring,locking=off,"
                        + "cache.direct=on,cache.no-flush=no,read-only=yes,discard=unmap,detect-zeroes=unmap").getFirst()));
        assertEquals(q("{'driver':'null-co','node-name':'a','size':16,'latency-ns':18446744073709551615,'read-zeroes':true}"),
                json(run("--blockdev", "driver=null-co,node-name=a,size=0x10,read-zeroes=y,latency-ns=-1").getFirst()));
        assertEquals(q("{'driver':'null-co','node-name':'a','size':8}"),      // octal, as strtoll
                json(run("--blockdev", "driver=null-co,node-name=a,size=010").getFirst()));
        assertEquals(q("{'driver':'raw','node-name':'r','file':'base'}"),
                json(run("--blockdev", "raw,node-name=r,file=base").getFirst()));
        assertEquals(q("{'driver':'raw','node-name':'r','file':{'driver':'null-co','size':512},'offset':0}"),
                json(run("--blockdev", "driver=raw,node-name=r,file.driver=null-co,file.size=512,offset=0").getFirst()));
    }

    @Test
    void blkdebugRulesInKeyvalForm() {
        assertEquals(q("{'driver':'blkdebug','node-name':'d','image':'f','inject-error':[{'event':'read_aio',"
                + "'iotype':'read','errno':28,'sector':8,'once':true,'x-delay-ns':1000}],"
                + "'set-state':[{'event':'write_aio','new_state':2}]}"),
                json(run("--blockdev", "driver=blkdebug,node-name=d,image=f,inject-error.0.event=read_aio,"
                        + "inject-error.0.iotype=read,inject-error.0.errno=28,inject-error.0.sector=8,"
                        + "inject-error.0.once=on,inject-error.0.x-delay-ns=1000,set-state.0.event=write_aio,"
                        + "set-state.0.new_state=2").getFirst()));
    }

    @Test
    void blkdebugErrors() {
        // What qemu-storage-daemon 7.2 prints for each of these (image=x is never looked up).
        String base = "driver=blkdebug,node-name=d,image=x,";
        String[][] cases = {
            {"inject-error.0.event=foo", "Parameter 'event' does not accept value 'foo'"},
            {"inject-error.0.event=read_aio,inject-error.0.iotype=zap", "Parameter 'iotype' does not accept value 'zap'"},
            {"inject-error.0.iotype=read", "Parameter 'inject-error.0.event' is missing"},
            {"inject-error.0.event=read_aio,inject-error.0.errno=abc", "Parameter 'inject-error.0.errno' expects integer"},
            {"inject-error.0.event=read_aio,inject-error.0.once=maybe",
                "Parameter 'inject-error.0.once' expects 'on' or 'off'"},
            {"set-state.0.event=read_aio", "Parameter 'set-state.0.new_state' is missing"},
            {"inject-error.1.event=read_aio", "Parameter 'inject-error.0' missing"},
        };
        for (String[] c : cases) {
            assertEquals("qmpd: --blockdev " + base + c[0] + ": " + c[1], error("--blockdev", base + c[0]));
        }
    }

    @Test
    void blockdevErrors() {
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,size=abc
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,size=abc: Parameter 'size' expects integer",
                error("--blockdev", "driver=null-co,node-name=a,size=abc"));
        // qemu-storage-daemon --blockdev=driver=null-co,node-name=a,size=1x --daemonize
        assertEquals("qmpd: --blockdev=driver=null-co,node-name=a,size=1x: Parameter 'size' expects integer",
                error("--blockdev=driver=null-co,node-name=a,size=1x", "--daemonize"));
        // null-co's size is a QAPI 'int', not a 'size': no suffixes (qemu-storage-daemon ... size=1k,size=2k)
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,size=1k,size=2k: Parameter 'size' expects integer",
                error("--blockdev", "driver=null-co,node-name=a,size=1k,size=2k"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,size=9223372036854775808
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,size=9223372036854775808: Parameter 'size' expects integer",
                error("--blockdev", "driver=null-co,node-name=a,size=9223372036854775808"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,size=
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,size=: Parameter 'size' expects integer",
                error("--blockdev", "driver=null-co,node-name=a,size="));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,latency-ns=18446744073709551616
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,latency-ns=18446744073709551616: "
                + "Parameter 'latency-ns' expects integer",
                error("--blockdev", "driver=null-co,node-name=a,latency-ns=18446744073709551616"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,read-zeroes=maybe
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,read-zeroes=maybe: "
                + "Parameter 'read-zeroes' expects 'on' or 'off'",
                error("--blockdev", "driver=null-co,node-name=a,read-zeroes=maybe"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,read-zeroes=ON
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,read-zeroes=ON: "
                + "Parameter 'read-zeroes' expects 'on' or 'off'",
                error("--blockdev", "driver=null-co,node-name=a,read-zeroes=ON"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,bogus=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,bogus=1: Parameter 'bogus' is unexpected",
                error("--blockdev", "driver=null-co,node-name=a,bogus=1"));
        // qemu-storage-daemon --blockdev driver=nope,node-name=a
        assertEquals("qmpd: --blockdev driver=nope,node-name=a: Parameter 'driver' does not accept value 'nope'",
                error("--blockdev", "driver=nope,node-name=a"));
        // qemu-storage-daemon --blockdev node-name=a
        assertEquals("qmpd: --blockdev node-name=a: Parameter 'driver' is missing", error("--blockdev", "node-name=a"));
        // qemu-storage-daemon --blockdev ''
        assertEquals("qmpd: --blockdev : Parameter 'driver' is missing", error("--blockdev", ""));
        // qemu-storage-daemon --blockdev 'driver=null-co,,x'
        assertEquals("qmpd: --blockdev driver=null-co,,x: Parameter 'driver' does not accept value 'null-co,x'",
                error("--blockdev", "driver=null-co,,x"));
        // qemu-storage-daemon --blockdev driver
        assertEquals("qmpd: --blockdev driver: Parameter 'driver' does not accept value 'driver'",
                error("--blockdev", "driver"));
        // qemu-storage-daemon --blockdev help
        assertEquals("qmpd: --blockdev help: Help is not available for this option", error("--blockdev", "help"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=n,help
        assertEquals("qmpd: --blockdev driver=null-co,node-name=n,help: Help is not available for this option",
                error("--blockdev", "driver=null-co,node-name=n,help"));
        // qemu-storage-daemon --blockdev driver=file,node-name=f,filename=/tmp/x,aio=foo
        assertEquals("qmpd: --blockdev driver=file,node-name=f,filename=/tmp/x,aio=foo: "
                + "Parameter 'aio' does not accept value 'foo'",
                error("--blockdev", "driver=file,node-name=f,filename=/tmp/x,aio=foo"));
        // qemu-storage-daemon --blockdev driver=file,node-name=f,filename=/tmp/x,cache.direct=foo
        assertEquals("qmpd: --blockdev driver=file,node-name=f,filename=/tmp/x,cache.direct=foo: "
                + "Parameter 'cache.direct' expects 'on' or 'off'",
                error("--blockdev", "driver=file,node-name=f,filename=/tmp/x,cache.direct=foo"));
        // qemu-storage-daemon --blockdev driver=file,node-name=f,filename=/tmp/x,locking=foo
        assertEquals("qmpd: --blockdev driver=file,node-name=f,filename=/tmp/x,locking=foo: "
                + "Parameter 'locking' does not accept value 'foo'",
                error("--blockdev", "driver=file,node-name=f,filename=/tmp/x,locking=foo"));
        // qemu-storage-daemon --blockdev driver=file,node-name=f
        assertEquals("qmpd: --blockdev driver=file,node-name=f: Parameter 'filename' is missing",
                error("--blockdev", "driver=file,node-name=f"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=n,x.a=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name=n,x.a=1: Parameter 'x' is unexpected",
                error("--blockdev", "driver=null-co,node-name=n,x.a=1"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=n,cache.x=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name=n,cache.x=1: Parameter 'cache.x' is unexpected",
                error("--blockdev", "driver=null-co,node-name=n,cache.x=1"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=n,cache=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name=n,cache=1: "
                + "Invalid parameter type for 'cache', expected: object",
                error("--blockdev", "driver=null-co,node-name=n,cache=1"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name.a=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name.a=1: Parameters 'node-name.*' are unexpected",
                error("--blockdev", "driver=null-co,node-name.a=1"));
        // qemu-storage-daemon --blockdev driver=null-co,node-name=a,size.0=1
        assertEquals("qmpd: --blockdev driver=null-co,node-name=a,size.0=1: Parameters 'size.*' are unexpected",
                error("--blockdev", "driver=null-co,node-name=a,size.0=1"));
        // qemu-storage-daemon --blockdev driver=raw,node-name=r,file.driver=null-co,file.size=abc
        assertEquals("qmpd: --blockdev driver=raw,node-name=r,file.driver=null-co,file.size=abc: "
                + "Parameter 'file.size' expects integer",
                error("--blockdev", "driver=raw,node-name=r,file.driver=null-co,file.size=abc"));
        // qemu-storage-daemon --blockdev driver=raw,node-name=r,file.driver=null-co,offset=abc
        assertEquals("qmpd: --blockdev driver=raw,node-name=r,file.driver=null-co,offset=abc: "
                + "Parameter 'offset' expects integer",
                error("--blockdev", "driver=raw,node-name=r,file.driver=null-co,offset=abc"));
        // keyval errors: qemu-storage-daemon --blockdev driver=null-co,a.1=x / ,a=1,a.b=2 / ,
        assertEquals("qmpd: --blockdev driver=null-co,a.1=x: Parameter 'a.0' missing",
                error("--blockdev", "driver=null-co,a.1=x"));
        assertEquals("qmpd: --blockdev driver=null-co,a=1,a.b=2: Parameters 'a.*' used inconsistently",
                error("--blockdev", "driver=null-co,a=1,a.b=2"));
        assertEquals("qmpd: --blockdev ,: Invalid parameter ''", error("--blockdev", ","));
        assertEquals("qmpd: --blockdev null-co,,x: Invalid parameter ''", error("--blockdev", "null-co,,x"));
    }

    @Test
    void blockdevJson() {
        assertEquals(q("{'driver':'null-co','node-name':'n','size':1024}"),
                json(run("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"size\":1024}").getFirst()));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","size":"1"}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"size\":\"1\"}: "
                + "Invalid parameter type for 'size', expected: integer",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"size\":\"1\"}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","size":1.5}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"size\":1.5}: "
                + "Invalid parameter type for 'size', expected: integer",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"size\":1.5}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","read-zeroes":"on"}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"read-zeroes\":\"on\"}: "
                + "Invalid parameter type for 'read-zeroes', expected: boolean",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"read-zeroes\":\"on\"}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","latency-ns":"x"}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"latency-ns\":\"x\"}: "
                + "Parameter 'latency-ns' expects uint64",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"latency-ns\":\"x\"}"));
        // qemu-storage-daemon --blockdev '{"driver":"raw","node-name":"r","file":5}'
        assertEquals("qmpd: --blockdev {\"driver\":\"raw\",\"node-name\":\"r\",\"file\":5}: "
                + "Invalid parameter type for 'file', expected: BlockdevRef",
                error("--blockdev", "{\"driver\":\"raw\",\"node-name\":\"r\",\"file\":5}"));
        // qemu-storage-daemon --blockdev '{"driver":"raw","node-name":"r","file":{"driver":"null-co","size":"x"}}'
        assertEquals("qmpd: --blockdev {\"driver\":\"raw\",\"node-name\":\"r\",\"file\":{\"driver\":\"null-co\",\"size\":\"x\"}}: "
                + "Invalid parameter type for 'file.size', expected: integer",
                error("--blockdev", "{\"driver\":\"raw\",\"node-name\":\"r\",\"file\":{\"driver\":\"null-co\",\"size\":\"x\"}}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":5}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":5}: "
                + "Invalid parameter type for 'node-name', expected: string",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":5}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","x":{"a":1}}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"x\":{\"a\":1}}: Parameter 'x' is unexpected",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"x\":{\"a\":1}}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n","cache":{"direct":"on"}}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\",\"cache\":{\"direct\":\"on\"}}: "
                + "Invalid parameter type for 'cache.direct', expected: boolean",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\",\"cache\":{\"direct\":\"on\"}}"));
        // qemu-storage-daemon --blockdev '{}' / '{"driver":5}'
        assertEquals("qmpd: --blockdev {}: Parameter 'driver' is missing", error("--blockdev", "{}"));
        assertEquals("qmpd: --blockdev {\"driver\":5}: Invalid parameter type for 'driver', expected: string",
                error("--blockdev", "{\"driver\":5}"));
        // qemu-storage-daemon --blockdev "{'driver':'null-co','node-name':'n','size':'x'}"   (single quotes are JSON to QEMU)
        assertEquals("qmpd: --blockdev {'driver':'null-co','node-name':'n','size':'x'}: "
                + "Invalid parameter type for 'size', expected: integer",
                error("--blockdev", "{'driver':'null-co','node-name':'n','size':'x'}"));
        // Only a leading '{' makes JSON: qemu-storage-daemon --blockdev '[1]' / ' {"driver":"null-co"}'
        assertEquals("qmpd: --blockdev [1]: Parameter 'driver' does not accept value '[1]'", error("--blockdev", "[1]"));
        assertEquals("qmpd: --blockdev  {\"driver\":\"null-co\"}: Parameter 'driver' does not accept value ' {\"driver\":\"null-co\"}'",
                error("--blockdev", " {\"driver\":\"null-co\"}"));
    }

    @Test
    void jsonSyntaxErrors() {
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n"'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\": JSON parse error, premature EOI",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\""));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","node-name":"n"} x'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"node-name\":\"n\"} x: Expecting at most one JSON value",
                error("--blockdev", "{\"driver\":\"null-co\",\"node-name\":\"n\"} x"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co",}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",}: JSON parse error, expecting value",
                error("--blockdev", "{\"driver\":\"null-co\",}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","driver":"x"}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"driver\":\"x\"}: JSON parse error, duplicate key",
                error("--blockdev", "{\"driver\":\"null-co\",\"driver\":\"x\"}"));
        // qemu-storage-daemon --blockdev '{"driver" "x"}'
        assertEquals("qmpd: --blockdev {\"driver\" \"x\"}: JSON parse error, missing : in object pair",
                error("--blockdev", "{\"driver\" \"x\"}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co" "x":1}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\" \"x\":1}: JSON parse error, expected separator in dict",
                error("--blockdev", "{\"driver\":\"null-co\" \"x\":1}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","x":[1 2]}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"x\":[1 2]}: JSON parse error, expected separator in list",
                error("--blockdev", "{\"driver\":\"null-co\",\"x\":[1 2]}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","x":[1,]}' and '{"driver":[}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"x\":[1,]}: JSON parse error, expecting value",
                error("--blockdev", "{\"driver\":\"null-co\",\"x\":[1,]}"));
        assertEquals("qmpd: --blockdev {\"driver\":[}: JSON parse error, expecting value", error("--blockdev", "{\"driver\":[}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co",1}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",1}: JSON parse error, key is not a string in object",
                error("--blockdev", "{\"driver\":\"null-co\",1}"));
        // qemu-storage-daemon --blockdev '{"driver":"null-co","x":"\q"}'
        assertEquals("qmpd: --blockdev {\"driver\":\"null-co\",\"x\":\"\\q\"}: JSON parse error, invalid escape sequence in string",
                error("--blockdev", "{\"driver\":\"null-co\",\"x\":\"\\q\"}"));
        // qemu-storage-daemon --blockdev '{"driver":nul}'
        assertEquals("qmpd: --blockdev {\"driver\":nul}: JSON parse error, invalid keyword 'nul'",
                error("--blockdev", "{\"driver\":nul}"));
    }

    // ---- --object ----

    @Test
    void objects() {
        assertEquals(q("{'qom-type':'iothread','id':'io0','aio-max-batch':16,'poll-max-ns':32768,'poll-grow':2,'poll-shrink':0}"),
                json(run("--object", "iothread,id=io0,poll-max-ns=32768,poll-grow=2,poll-shrink=0,aio-max-batch=0x10").getFirst()));
        assertEquals(q("{'qom-type':'main-loop','id':'m','thread-pool-max':8}"),
                json(run("--object", "main-loop,id=m,thread-pool-max=8").getFirst()));
        CliOption.ObjectOpt o = (CliOption.ObjectOpt) run("--object", "{\"qom-type\":\"iothread\",\"id\":\"x\"}").getFirst();
        assertEquals("iothread", o.qomType());
        assertEquals("x", o.id());
        // qemu-storage-daemon --object iothread,id=x,id=y   (the last wins, runs)
        assertEquals("y", ((CliOption.ObjectOpt) run("--object", "iothread,id=x,id=y").getFirst()).id());
    }

    @Test
    void objectErrors() {
        // qemu-storage-daemon --object iothread
        assertEquals("qmpd: --object iothread: Parameter 'id' is missing", error("--object", "iothread"));
        // qemu-storage-daemon --object ''
        assertEquals("qmpd: --object : Parameter 'qom-type' is missing", error("--object", ""));
        // qemu-storage-daemon --object nope,id=x
        assertEquals("qmpd: --object nope,id=x: Parameter 'qom-type' does not accept value 'nope'",
                error("--object", "nope,id=x"));
        // qemu-storage-daemon --object iothread,id=x,poll-max-ns=abc
        assertEquals("qmpd: --object iothread,id=x,poll-max-ns=abc: Parameter 'poll-max-ns' expects integer",
                error("--object", "iothread,id=x,poll-max-ns=abc"));
        // qemu-storage-daemon --object iothread,id=x,poll-max-ns=1k
        assertEquals("qmpd: --object iothread,id=x,poll-max-ns=1k: Parameter 'poll-max-ns' expects integer",
                error("--object", "iothread,id=x,poll-max-ns=1k"));
        // qemu-storage-daemon --object iothread,id=x,poll-grow=99999999999999999999
        assertEquals("qmpd: --object iothread,id=x,poll-grow=99999999999999999999: Parameter 'poll-grow' expects integer",
                error("--object", "iothread,id=x,poll-grow=99999999999999999999"));
        // qemu-storage-daemon --object iothread,id=x,poll-max-ns=-1
        assertEquals("qmpd: --object iothread,id=x,poll-max-ns=-1: poll-max-ns value must be in range [0, 9223372036854775807]",
                error("--object", "iothread,id=x,poll-max-ns=-1"));
        // qemu-storage-daemon --object iothread,id=x,thread-pool-min=-1
        assertEquals("qmpd: --object iothread,id=x,thread-pool-min=-1: thread-pool-min value must be in range [0, 9223372036854775807]",
                error("--object", "iothread,id=x,thread-pool-min=-1"));
        // qemu-storage-daemon --object '{"qom-type":"iothread","id":"x","aio-max-batch":-1}'
        assertEquals("qmpd: --object {\"qom-type\":\"iothread\",\"id\":\"x\",\"aio-max-batch\":-1}: "
                + "aio-max-batch value must be in range [0, 9223372036854775807]",
                error("--object", "{\"qom-type\":\"iothread\",\"id\":\"x\",\"aio-max-batch\":-1}"));
        // qemu-storage-daemon --object iothread,id=1x
        assertEquals("qmpd: --object iothread,id=1x: Parameter 'id' expects an identifier\n"
                + "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
                error("--object", "iothread,id=1x"));
        // qemu-storage-daemon --object iothread,id=x,bogus=1
        assertEquals("qmpd: --object iothread,id=x,bogus=1: Parameter 'bogus' is unexpected",
                error("--object", "iothread,id=x,bogus=1"));
        // qemu-storage-daemon --object '{"qom-type":"iothread","id":"x","poll-max-ns":"5"}'
        assertEquals("qmpd: --object {\"qom-type\":\"iothread\",\"id\":\"x\",\"poll-max-ns\":\"5\"}: "
                + "Invalid parameter type for 'poll-max-ns', expected: integer",
                error("--object", "{\"qom-type\":\"iothread\",\"id\":\"x\",\"poll-max-ns\":\"5\"}"));
        // qemu-storage-daemon --object '{"qom-type":"iothread"}'
        assertEquals("qmpd: --object {\"qom-type\":\"iothread\"}: Parameter 'id' is missing",
                error("--object", "{\"qom-type\":\"iothread\"}"));
        // qemu-storage-daemon --object '{"qom-type":"iothread","id":"x","help":1}'
        assertEquals("qmpd: --object {\"qom-type\":\"iothread\",\"id\":\"x\",\"help\":1}: Parameter 'help' is unexpected",
                error("--object", "{\"qom-type\":\"iothread\",\"id\":\"x\",\"help\":1}"));
        // qemu-storage-daemon --object help=on
        assertEquals("qmpd: --object help=on: Parameter 'qom-type' is missing", error("--object", "help=on"));
    }

    @Test
    void objectHelp() {
        // qemu-storage-daemon --object help / '?' / help,id=x / nope,help: the list of types
        String types = "List of user creatable objects:\n  iothread\n  main-loop\n";
        assertEquals(types, stdout("--object", "help"));
        assertEquals(types, stdout("--object", "?"));
        assertEquals(types, stdout("--object", "help,id=x"));
        assertEquals(types, stdout("--object", "nope,help"));
        // qemu-storage-daemon --object iothread,help / iothread,help,id=x / 'iothread,?'
        String props = "iothread options:\n  aio-max-batch=<int>\n  poll-grow=<int>\n  poll-max-ns=<int>\n"
                + "  poll-shrink=<int>\n  thread-pool-max=<int>\n  thread-pool-min=<int>\n";
        assertEquals(props, stdout("--object", "iothread,help"));
        assertEquals(props, stdout("--object", "iothread,help,id=x"));
        assertEquals(props, stdout("--object", "iothread,?"));
        // qemu-storage-daemon --object main-loop,help
        assertEquals("main-loop options:\n  aio-max-batch=<int>\n  thread-pool-max=<int>\n  thread-pool-min=<int>\n",
                stdout("--object", "main-loop,help"));
    }

    // ---- --export, --nbd-server, --monitor, --http ----

    @Test
    void exports() {
        assertEquals(q("{'type':'nbd','id':'e','iothread':'io0','node-name':'n','writable':true,'name':'disk',"
                        + "'bitmaps':['b0','b1']}"),
                json(run("--export", "nbd,id=e,node-name=n,name=disk,writable=on,bitmaps.0=b0,bitmaps.1=b1,iothread=io0")
                        .getFirst()));
        // qemu-storage-daemon --export type=nbd
        assertEquals("qmpd: --export type=nbd: Parameter 'id' is missing", error("--export", "type=nbd"));
        // qemu-storage-daemon --export type=bogus
        assertEquals("qmpd: --export type=bogus: Parameter 'type' does not accept value 'bogus'",
                error("--export", "type=bogus"));
        // qemu-storage-daemon --export help
        assertEquals("qmpd: --export help: Help is not available for this option", error("--export", "help"));
        // qemu-storage-daemon --export type=nbd,id=e,node-name=x,writable=maybe
        assertEquals("qmpd: --export type=nbd,id=e,node-name=x,writable=maybe: Parameter 'writable' expects 'on' or 'off'",
                error("--export", "type=nbd,id=e,node-name=x,writable=maybe"));
        // qemu-storage-daemon --export type=nbd,id=e,node-name=x,bitmaps.0=b,bitmaps.2=c
        assertEquals("qmpd: --export type=nbd,id=e,node-name=x,bitmaps.0=b,bitmaps.2=c: Parameter 'bitmaps.1' missing",
                error("--export", "type=nbd,id=e,node-name=x,bitmaps.0=b,bitmaps.2=c"));
        // qemu-storage-daemon --export type=nbd,id=e,node-name=x,bitmaps=b
        assertEquals("qmpd: --export type=nbd,id=e,node-name=x,bitmaps=b: Invalid parameter type for 'bitmaps', expected: array",
                error("--export", "type=nbd,id=e,node-name=x,bitmaps=b"));
        // qemu-storage-daemon --export '{"type":"nbd","id":"e","node-name":"x","bitmaps":"b"}'
        assertEquals("qmpd: --export {\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":\"b\"}: "
                + "Invalid parameter type for 'bitmaps', expected: array",
                error("--export", "{\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":\"b\"}"));
        // bitmaps are BlockDirtyBitmapOrStr: qemu-storage-daemon --export type=nbd,id=e,node-name=x,bitmaps.0.a=1
        assertEquals("qmpd: --export type=nbd,id=e,node-name=x,bitmaps.0.a=1: Parameter 'bitmaps.0.node' is missing",
                error("--export", "type=nbd,id=e,node-name=x,bitmaps.0.a=1"));
        // qemu-storage-daemon --export '{"type":"nbd","id":"e","node-name":"x","bitmaps":[1]}'
        assertEquals("qmpd: --export {\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":[1]}: "
                + "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr",
                error("--export", "{\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":[1]}"));
        // qemu-storage-daemon --export '{"type":"nbd","id":"e","node-name":"x","bitmaps":["a",{"b":1}]}'
        assertEquals("qmpd: --export {\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":[\"a\",{\"b\":1}]}: "
                + "Parameter 'bitmaps[1].node' is missing",
                error("--export", "{\"type\":\"nbd\",\"id\":\"e\",\"node-name\":\"x\",\"bitmaps\":[\"a\",{\"b\":1}]}"));
        // qemu-storage-daemon --export type=nbd,id=e,node-name=x,iothread=io,fixed-iothread=x
        assertEquals("qmpd: --export type=nbd,id=e,node-name=x,iothread=io,fixed-iothread=x: "
                + "Parameter 'fixed-iothread' expects 'on' or 'off'",
                error("--export", "type=nbd,id=e,node-name=x,iothread=io,fixed-iothread=x"));
    }

    @Test
    void nbdServer() {
        assertEquals(q("{'addr':{'type':'inet','host':'localhost','port':'10809'},'max-connections':4}"),
                json(run("--nbd-server", "addr.type=inet,addr.host=localhost,addr.port=10809,max-connections=4").getFirst()));
        assertEquals(q("{'addr':{'type':'unix','path':'/run/nbd.sock'}}"),
                json(run("--nbd-server", "{\"addr\":{\"type\":\"unix\",\"path\":\"/run/nbd.sock\"}}").getFirst()));
        // qemu-storage-daemon --nbd-server addr.type=inet,addr.host=localhost
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=localhost: Parameter 'addr.port' is missing",
                error("--nbd-server", "addr.type=inet,addr.host=localhost"));
        // qemu-storage-daemon --nbd-server addr.type=bogus   (enum errors name the member alone)
        assertEquals("qmpd: --nbd-server addr.type=bogus: Parameter 'type' does not accept value 'bogus'",
                error("--nbd-server", "addr.type=bogus"));
        // qemu-storage-daemon --nbd-server addr.type=unix
        assertEquals("qmpd: --nbd-server addr.type=unix: Parameter 'addr.path' is missing",
                error("--nbd-server", "addr.type=unix"));
        // qemu-storage-daemon --nbd-server ...,max-connections=-1
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=localhost,addr.port=10809,max-connections=-1: "
                + "Parameter 'max-connections' expects uint32_t",
                error("--nbd-server", "addr.type=inet,addr.host=localhost,addr.port=10809,max-connections=-1"));
        // qemu-storage-daemon --nbd-server ...,max-connections=4294967296
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=localhost,addr.port=10809,max-connections=4294967296: "
                + "Parameter 'max-connections' expects uint32_t",
                error("--nbd-server", "addr.type=inet,addr.host=localhost,addr.port=10809,max-connections=4294967296"));
        // qemu-storage-daemon --nbd-server addr.type=inet,addr.host=h,addr.port=1,addr.to=70000
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=h,addr.port=1,addr.to=70000: Parameter 'to' expects uint16_t",
                error("--nbd-server", "addr.type=inet,addr.host=h,addr.port=1,addr.to=70000"));
        // qemu-storage-daemon --nbd-server ...,addr.ipv4=maybe
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=localhost,addr.port=10809,addr.ipv4=maybe: "
                + "Parameter 'addr.ipv4' expects 'on' or 'off'",
                error("--nbd-server", "addr.type=inet,addr.host=localhost,addr.port=10809,addr.ipv4=maybe"));
        // qemu-storage-daemon --nbd-server ...,addr.bogus=1
        assertEquals("qmpd: --nbd-server addr.type=inet,addr.host=localhost,addr.port=10809,addr.bogus=1: "
                + "Parameter 'addr.bogus' is unexpected",
                error("--nbd-server", "addr.type=inet,addr.host=localhost,addr.port=10809,addr.bogus=1"));
        // qemu-storage-daemon --nbd-server addr=x
        assertEquals("qmpd: --nbd-server addr=x: Invalid parameter type for 'addr', expected: object",
                error("--nbd-server", "addr=x"));
        // qemu-storage-daemon --nbd-server addr.path=/x
        assertEquals("qmpd: --nbd-server addr.path=/x: Parameter 'addr.type' is missing", error("--nbd-server", "addr.path=/x"));
        // qemu-storage-daemon --nbd-server ''
        assertEquals("qmpd: --nbd-server : Parameter 'addr' is missing", error("--nbd-server", ""));
        // qemu-storage-daemon --nbd-server help
        assertEquals("qmpd: --nbd-server help: Help is not available for this option", error("--nbd-server", "help"));
        // qemu-storage-daemon --nbd-server foo   (no implied key)
        assertEquals("qmpd: --nbd-server foo: Expected '=' after parameter 'foo'", error("--nbd-server", "foo"));
        // qemu-storage-daemon --nbd-server '{"addr":{"type":"inet","host":"h","port":10809}}'
        assertEquals("qmpd: --nbd-server {\"addr\":{\"type\":\"inet\",\"host\":\"h\",\"port\":10809}}: "
                + "Invalid parameter type for 'addr.port', expected: string",
                error("--nbd-server", "{\"addr\":{\"type\":\"inet\",\"host\":\"h\",\"port\":10809}}"));
        // qemu-storage-daemon --nbd-server '{"addr":{"type":"inet","host":"h","port":"1"},"max-connections":-1}'
        assertEquals("qmpd: --nbd-server {\"addr\":{\"type\":\"inet\",\"host\":\"h\",\"port\":\"1\"},\"max-connections\":-1}: "
                + "Parameter 'max-connections' expects uint32_t",
                error("--nbd-server", "{\"addr\":{\"type\":\"inet\",\"host\":\"h\",\"port\":\"1\"},\"max-connections\":-1}"));
    }

    @Test
    void monitor() {
        assertEquals(q("{'mode':'control','pretty':true,'chardev':'m0'}"),
                json(run("--monitor", "m0,pretty=on,mode=control").getFirst()));
        // qemu-storage-daemon --monitor chardev=m0,mode=bogus
        assertEquals("qmpd: --monitor chardev=m0,mode=bogus: Parameter 'mode' does not accept value 'bogus'",
                error("--monitor", "chardev=m0,mode=bogus"));
        // qemu-storage-daemon --monitor chardev=m0,pretty=x
        assertEquals("qmpd: --monitor chardev=m0,pretty=x: Parameter 'pretty' expects 'on' or 'off'",
                error("--monitor", "chardev=m0,pretty=x"));
        // qemu-storage-daemon --monitor help
        assertEquals("qmpd: --monitor help: Help is not available for this option", error("--monitor", "help"));
        // qemu-storage-daemon --monitor ''
        assertEquals("qmpd: --monitor : Parameter 'chardev' is missing", error("--monitor", ""));
        // qemu-storage-daemon --monitor m0,bogus=1
        assertEquals("qmpd: --monitor m0,bogus=1: Parameter 'bogus' is unexpected", error("--monitor", "m0,bogus=1"));
        // qemu-storage-daemon --monitor '{"chardev":"x","pretty":"on"}'
        assertEquals("qmpd: --monitor {\"chardev\":\"x\",\"pretty\":\"on\"}: Invalid parameter type for 'pretty', expected: boolean",
                error("--monitor", "{\"chardev\":\"x\",\"pretty\":\"on\"}"));
        // qemu-storage-daemon --monitor   (missing argument)
        assertEquals("qmpd: option '--monitor' requires an argument", error("--monitor"));
    }

    @Test
    void http() {
        assertEquals(q("{'host':'127.0.0.1','port':8080,'token-file':'/etc/qmpd/token'}"),
                json(run("--http", "host=127.0.0.1,port=8080,token-file=/etc/qmpd/token").getFirst()));
        assertEquals(q("{'port':9000}"), json(run("--http={\"port\":9000}").getFirst()));
        assertEquals(q("{'port':9443,'tls-cert':'/etc/qmpd/cert.pem','tls-key':'/etc/qmpd/key.pem'}"),
                json(run("--http", "port=9443,tls-cert=/etc/qmpd/cert.pem,tls-key=/etc/qmpd/key.pem").getFirst()));
        assertEquals("qmpd: --http port=1,tls-cert: Expected '=' after parameter 'tls-cert'",
                error("--http", "port=1,tls-cert"));
        assertEquals("qmpd: --http port=70000: Parameter 'port' expects uint16_t", error("--http", "port=70000"));
        assertEquals("qmpd: --http host=h: Parameter 'port' is missing", error("--http", "host=h"));
        assertEquals("qmpd: --http 8080: Invalid parameter '8080'", error("--http", "8080"));   // no implied key
    }

    // ---- --chardev ----

    @Test
    void chardevSocket() {
        assertEquals(q("{'id':'c','backend':{'type':'socket','data':{'addr':{'type':'unix','data':"
                        + "{'path':'/tmp/q,x','tight':true,'abstract':false}},'server':true,'wait':false}}}"),
                json(run("--chardev", "socket,id=c,path=/tmp/q,,x,server=on,wait=off").getFirst()));
        assertEquals(q("{'id':'t','backend':{'type':'socket','data':{'addr':{'type':'inet','data':"
                        + "{'host':'localhost','port':'4444'}},'server':false}}}"),
                json(run("--chardev", "socket,id=t,host=localhost,port=4444").getFirst()));
        assertEquals(q("{'id':'s','backend':{'type':'stdio','data':{'signal':false}}}"),
                json(run("--chardev", "stdio,id=s,signal=off").getFirst()));
        // The first id wins: qemu-storage-daemon --chardev socket,id=c,path=/tmp/x,id=1d gets past parsing
        assertEquals("c", ((CliOption.ChardevOpt) run("--chardev", "socket,id=c,path=/tmp/x,id=1d").getFirst()).id());
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/x,delay,nodelay   (warns twice, then runs)
        CommandLine.Run r = (CommandLine.Run) CommandLine.parse("--chardev", "socket,id=c,path=/tmp/x,delay,nodelay");
        assertEquals(List.of("--chardev socket,id=c,path=/tmp/x,delay,nodelay: warning: short-form boolean option "
                        + "'delay' deprecated\nPlease use nodelay=off instead",
                "--chardev socket,id=c,path=/tmp/x,delay,nodelay: warning: short-form boolean option "
                        + "'nodelay' deprecated\nPlease use nodelay=on instead"), r.warnings());
    }

    @Test
    void chardevShortFormBooleansWarn() {
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/qsdt.sock,server,nowait
        CommandLine.Run r = (CommandLine.Run) CommandLine.parse("--chardev", "socket,id=c,path=/tmp/qsdt.sock,server,nowait");
        assertEquals(List.of(
                "--chardev socket,id=c,path=/tmp/qsdt.sock,server,nowait: warning: short-form boolean option 'server' deprecated\n"
                        + "Please use server=on instead",
                "--chardev socket,id=c,path=/tmp/qsdt.sock,server,nowait: warning: short-form boolean option 'nowait' deprecated\n"
                        + "Please use wait=off instead"), r.warnings());
        assertTrue(json(r.options().getFirst()).contains(q("'server':true,'wait':false")));
    }

    @Test
    void chardevErrors() {
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/qsdtest.sock,server=on,wait=maybe
        assertEquals("qmpd: --chardev socket,id=c,path=/tmp/qsdtest.sock,server=on,wait=maybe: Parameter 'wait' expects 'on' or 'off'",
                error("--chardev", "socket,id=c,path=/tmp/qsdtest.sock,server=on,wait=maybe"));
        // qemu-storage-daemon --chardev socket,id=c
        assertEquals("qmpd: --chardev socket,id=c: Unable to parse FD number ", error("--chardev", "socket,id=c"));
        // qemu-storage-daemon --chardev nope,id=c
        assertEquals("qmpd: --chardev nope,id=c: 'nope' is not a valid char driver name", error("--chardev", "nope,id=c"));
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/qsdt.sock,bogus=1
        assertEquals("qmpd: --chardev socket,id=c,path=/tmp/qsdt.sock,bogus=1: Invalid parameter 'bogus'",
                error("--chardev", "socket,id=c,path=/tmp/qsdt.sock,bogus=1"));
        // qemu-storage-daemon --chardev socket,path=/tmp/qsdt.sock
        assertEquals("qmpd: --chardev socket,path=/tmp/qsdt.sock: chardev: no id specified",
                error("--chardev", "socket,path=/tmp/qsdt.sock"));
        // qemu-storage-daemon --chardev id=c,path=/tmp/qsdt.sock
        assertEquals("qmpd: --chardev id=c,path=/tmp/qsdt.sock: chardev: \"c\" missing backend",
                error("--chardev", "id=c,path=/tmp/qsdt.sock"));
        // qemu-storage-daemon --chardev socket,id=c,host=localhost
        assertEquals("qmpd: --chardev socket,id=c,host=localhost: chardev: socket: no port given",
                error("--chardev", "socket,id=c,host=localhost"));
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/x,host=h,port=1
        assertEquals("qmpd: --chardev socket,id=c,path=/tmp/x,host=h,port=1: None or one of 'path', 'fd' or 'host' option required.",
                error("--chardev", "socket,id=c,path=/tmp/x,host=h,port=1"));
        // qemu-storage-daemon --chardev '{"id":"c"}'   (--chardev has no JSON form)
        assertEquals("qmpd: --chardev {\"id\":\"c\"}: chardev: no id specified", error("--chardev", "{\"id\":\"c\"}"));
        // qemu-storage-daemon --chardev ''
        assertEquals("qmpd: --chardev : chardev: no id specified", error("--chardev", ""));
        // qemu-storage-daemon --chardev ,id=c
        assertEquals("qmpd: --chardev ,id=c: '' is not a valid char driver name", error("--chardev", ",id=c"));
        // qemu-storage-daemon --chardev socket,id=c,path=/tmp/x,delay=on,nodelay=on
        assertEquals("qmpd: --chardev socket,id=c,path=/tmp/x,delay=on,nodelay=on: 'delay' and 'nodelay' are mutually exclusive",
                error("--chardev", "socket,id=c,path=/tmp/x,delay=on,nodelay=on"));
        // qemu-storage-daemon --chardev socket,,id=c   (the implied value swallows ",,id=c"; the id scan does not)
        assertEquals("qmpd: --chardev socket,,id=c: 'socket,id=c' is not a valid char driver name",
                error("--chardev", "socket,,id=c"));
        // qemu-storage-daemon --chardev socket,id=1c,path=/tmp/x
        assertEquals("qmpd: --chardev socket,id=1c,path=/tmp/x: Parameter 'id' expects an identifier\n"
                + "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
                error("--chardev", "socket,id=1c,path=/tmp/x"));
    }

    @Test
    void chardevHelp() {
        // qemu-storage-daemon --chardev help   (qmpd lists its own backends)
        assertEquals("Available chardev backend types: \n  socket\n  stdio\n", stdout("--chardev", "help"));
        // qemu-storage-daemon --chardev socket,help
        String opts = stdout("--chardev", "socket,help");
        assertTrue(opts.startsWith("chardev options:\n  abstract=<bool (on/off)>\n  append=<bool (on/off)>\n"), opts);
        assertTrue(opts.contains("  reconnect=<num>\n"));
    }
}
