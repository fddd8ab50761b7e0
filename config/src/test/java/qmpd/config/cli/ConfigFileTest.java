package qmpd.config.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config FILE: the same trees as the options' JSON form, with errors that name file and path. */
class ConfigFileTest {
    @TempDir
    Path dir;

    private static final String YAML = """
            # a whole daemon
            exports:
              - {type: nbd, id: e0, node-name: disk0, iothread: io0, writable: true}
            blockdevs:
              - driver: null-co
                node-name: disk0
                size: 1073741824
              - {driver: raw, node-name: r0, file: {driver: file, filename: /var/lib/a.img, aio: io_uring}}
            objects:
              - {qom-type: iothread, id: io0, poll-max-ns: 32768}
            nbd-server:
              addr: {type: unix, path: /run/nbd.sock}
              max-connections: 16
            monitors:
              - {chardev: qmp0, pretty: true}
            chardevs:
              - {id: qmp0, backend: socket, path: /run/qmpd.sock, server: true, wait: false}
            http: {host: 127.0.0.1, port: 8080}
            """;

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private String error(String name, String text) throws Exception {
        Path p = write(name, text);
        return assertThrows(CliException.class, () -> CommandLine.parse("--config", p.toString())).format("qmpd");
    }

    @Test
    void yamlDeclaresADaemonInApplyOrder() throws Exception {
        Path p = write("qmpd.yaml", YAML);
        List<CliOption> opts = ((CommandLine.Run) CommandLine.parse("--object", "iothread,id=first",
                "--config", p.toString(), "--daemonize")).options();
        assertEquals(List.of(CliOption.ObjectOpt.class, CliOption.ChardevOpt.class, CliOption.MonitorOpt.class,
                        CliOption.HttpOpt.class, CliOption.ObjectOpt.class, CliOption.BlockdevOpt.class,
                        CliOption.BlockdevOpt.class, CliOption.NbdServerOpt.class, CliOption.ExportOpt.class,
                        CliOption.Daemonize.class),
                opts.stream().map(Object::getClass).toList());
        CliOption.BlockdevOpt raw = (CliOption.BlockdevOpt) opts.get(6);
        assertEquals("{\"driver\":\"raw\",\"node-name\":\"r0\",\"file\":{\"driver\":\"file\",\"filename\":\"/var/lib/a.img\","
                + "\"aio\":\"io_uring\"}}", raw.args().toString());
        assertEquals(p + ": blockdevs[1]", raw.source());
        CliOption.ChardevOpt chr = (CliOption.ChardevOpt) opts.get(1);
        assertEquals(((CliOption.ChardevOpt) ((CommandLine.Run) CommandLine.parse("--chardev",
                "socket,id=qmp0,path=/run/qmpd.sock,server=on,wait=off")).options().getFirst()).args(), chr.args());
        assertEquals("{\"host\":\"127.0.0.1\",\"port\":8080}", ((CliOption.HttpOpt) opts.get(3)).args().toString());
    }

    @Test
    void jsonFileGivesTheSameOptions() throws Exception {
        Path y = write("a.yaml", YAML);
        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(YAML));
        Path j = write("a.json", json);
        List<CliOption> fromYaml = ConfigFile.load(y);
        List<CliOption> fromJson = ConfigFile.load(j);
        assertEquals(fromYaml.size(), fromJson.size());
        for (int i = 0; i < fromYaml.size(); i++) {
            assertEquals(fromYaml.get(i).toString().replace(y.toString(), "F"),
                    fromJson.get(i).toString().replace(j.toString(), "F"));
        }
    }

    @Test
    void emptyFileDeclaresNothing() throws Exception {
        assertEquals(List.of(), ConfigFile.load(write("empty.yaml", "")));
        assertEquals(List.of(), ConfigFile.load(write("comment.yaml", "# nothing\n")));
    }

    @Test
    void errorsNameFileAndPath() throws Exception {
        String f = dir.resolve("c.yaml").toString();
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'blockdevs[1].size', expected: integer",
                error("c.yaml", "blockdevs:\n  - {driver: null-co, node-name: a}\n  - {driver: null-co, node-name: b, size: 1G}\n"));
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'blockdevs[0].read-only', expected: boolean",
                error("c.yaml", "blockdevs: [{driver: null-co, node-name: a, read-only: maybe}]\n"));
        // YAML 1.1 reads on/off/yes/no as booleans, so QEMU's spelling works...
        assertEquals("{\"driver\":\"null-co\",\"node-name\":\"a\",\"read-only\":true}",
                ((CliOption.BlockdevOpt) ConfigFile.parse("blockdevs: [{driver: null-co, node-name: a, read-only: on}]",
                        "f", true).getFirst()).args().toString());
        // ...and a name that reads as one needs quotes.
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'blockdevs[0].node-name', expected: string",
                error("c.yaml", "blockdevs: [{driver: null-co, node-name: yes}]\n"));
        // An enum error names the member alone (as QEMU's does): the entry's path goes in front.
        assertEquals("qmpd: " + f + ": blockdevs[0]: Parameter 'driver' does not accept value 'qcow9'",
                error("c.yaml", "blockdevs: [{driver: qcow9}]\n"));
        assertEquals("qmpd: " + f + ": Parameter 'exports[0].node-name' is missing",
                error("c.yaml", "exports: [{type: nbd, id: e}]\n"));
        assertEquals("qmpd: " + f + ": Parameter 'nbd-server.addr.port' is missing",
                error("c.yaml", "nbd-server: {addr: {type: inet, host: h}}\n"));
        assertEquals("qmpd: " + f + ": Parameter 'blockdev' is unexpected",
                error("c.yaml", "blockdev: []\n"));
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'blockdevs', expected: array",
                error("c.yaml", "blockdevs: {driver: null-co}\n"));
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'objects[0]', expected: object",
                error("c.yaml", "objects: [iothread]\n"));
        // Checks that run after the visit name the entry themselves.
        assertEquals("qmpd: " + f + ": objects[0]: poll-grow value must be in range [0, 9223372036854775807]",
                error("c.yaml", "objects: [{qom-type: iothread, id: io0, poll-grow: -1}]\n"));
        assertEquals("qmpd: " + f + ": chardevs[0]: chardev: socket: no port given",
                error("c.yaml", "chardevs: [{id: c, backend: socket, host: h}]\n"));
        assertEquals("qmpd: " + f + ": chardevs[0]: Invalid parameter 'bogus'",
                error("c.yaml", "chardevs: [{id: c, backend: socket, path: /p, bogus: 1}]\n"));
        assertEquals("qmpd: " + f + ": Invalid parameter type for 'chardevs[0].path', expected: string",
                error("c.yaml", "chardevs: [{id: c, backend: socket, path: [1]}]\n"));
        assertTrue(error("c.yaml", "- 1\n- 2\n").startsWith("qmpd: " + f + ": expected an object of sections (chardevs, "));
    }

    @Test
    void syntaxErrorsNameTheLine() throws Exception {
        String f = dir.resolve("bad.yaml").toString();
        String e = error("bad.yaml", "blockdevs:\n  - {driver: null-co\n");
        assertTrue(e.startsWith("qmpd: " + f + ":"), e);
        e = error("dup.yaml", "http: {port: 1}\nhttp: {port: 2}\n");
        assertTrue(e.contains("Duplicate field 'http'"), e);
        String j = dir.resolve("bad.json").toString();
        e = error("bad.json", "{\"blockdevs\": [}");
        assertTrue(e.startsWith("qmpd: " + j + ":1: "), e);
    }

    @Test
    void missingFile() {
        String f = dir.resolve("nope.yaml").toString();
        assertEquals("qmpd: --config " + f + ": Could not open '" + f + "': No such file or directory",
                assertThrows(CliException.class, () -> CommandLine.parse("--config", f)).format("qmpd"));
        assertInstanceOf(CliException.class, assertThrows(CliException.class,
                () -> CommandLine.parse("--config", dir.toString())));
    }
}
