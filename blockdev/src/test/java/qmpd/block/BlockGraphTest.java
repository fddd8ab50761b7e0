package qmpd.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import qmpd.config.error.QmpException;
import qmpd.config.schema.block.BlockdevOptions;
import qmpd.loop.GlobalLock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** blockdev-add and blockdev-del semantics, with QEMU 7.2's messages (transcript c_block_nodes). */
@Timeout(30)
class BlockGraphTest extends GraphOnTestThread {

    private static void assertError(String message, Runnable r) {
        QmpException e = assertThrows(QmpException.class, r::run);
        assertEquals("GenericError", e.errorClass());
        assertEquals(message, e.getMessage());
    }

    private Path image() throws IOException {
        Path p = Files.createTempFile(dir, "disk", ".raw");
        Files.write(p, new byte[65536]);
        return p;
    }

    @Test
    void badNamesAndDuplicatesAreRefusedWithQemusWords() {
        graph.add(BlockdevOptions.NullCo.of("n0"));
        assertError("Duplicate nodes with node-name='n0'", () -> graph.add(BlockdevOptions.NullCo.of("n0")));
        assertError("Invalid node-name: '1bad'", () -> graph.add(BlockdevOptions.NullCo.of("1bad")));
        assertError("Invalid node-name: 'a b'", () -> graph.add(BlockdevOptions.NullCo.of("a b")));
        assertError("Invalid node-name: ''", () -> graph.add(BlockdevOptions.NullCo.of("")));
        assertError("Node name too long", () -> graph.add(BlockdevOptions.NullCo.of("a".repeat(32))));
        assertError("'node-name' must be specified for the root node",
                () -> graph.add(BlockdevOptions.NullCo.of(null)));
        assertEquals(List.of("n0"), graph.nodes().stream().map(BlockNode::nodeName).toList());
    }

    @Test
    void aMissingFileIsReportedAndLeavesNothingBehind() {
        String missing = dir.resolve("missing.raw").toString();
        assertError("Could not open '" + missing + "': No such file or directory",
                () -> graph.add(BlockdevOptions.File.of("f1", missing)));
        assertError("Could not open '" + dir + "': Is a directory",
                () -> graph.add(BlockdevOptions.File.of("f1", dir.toString())));
        assertTrue(graph.nodes().isEmpty());
    }

    @Test
    void aFailedAddClosesTheInlineChildrenItOpened() throws IOException {
        Path p = image();
        // The inline file opens, then raw refuses a window past its end: nothing may remain.
        BlockdevOptions bad = new BlockdevOptions.Raw("r0", null, BlockdevOptions.File.of(null, p.toString()),
                0, 1L << 20, false);
        QmpException e = assertThrows(QmpException.class, () -> graph.add(bad));
        assertTrue(e.getMessage().startsWith("The sum of offset (0) and size (1048576)"), e.getMessage());
        assertTrue(graph.nodes().isEmpty(), "no half-built node: " + graph.nodes());
        // And the name is free again.
        graph.add(new BlockdevOptions.Raw("r0", null, BlockdevOptions.File.of(null, p.toString()), 0, null, false));
        assertEquals(2, graph.nodes().size());
        assertTrue(graph.nodes().stream().anyMatch(n -> n.nodeName().startsWith("#block")));
    }

    @Test
    void aNodeInUseCannotBeDeletedAndInlineChildrenGoWithTheirParent() throws IOException {
        graph.add(BlockdevOptions.File.of("f0", image().toString()));
        graph.add(new BlockdevOptions.Raw("r0", "f0", null, 0, null, false));
        assertError("Block device f0 is in use", () -> graph.delete("f0"));
        BlockNode n0 = graph.add(BlockdevOptions.NullCo.of("n0"));
        n0.addUser("export 'e0'");
        assertError("Block device n0 is in use", () -> graph.delete("n0"));
        assertError("Failed to find node with node-name='nosuch'", () -> graph.delete("nosuch"));
        n0.removeUser("export 'e0'");
        graph.delete("n0");
        graph.delete("r0");
        graph.delete("f0");
        assertTrue(graph.nodes().isEmpty());

        graph.add(new BlockdevOptions.Raw("r1", null, BlockdevOptions.File.of(null, image().toString()), 0, null, false));
        String child = graph.nodes().stream().map(BlockNode::nodeName).filter(s -> s.startsWith("#")).findFirst().orElseThrow();
        assertError("Node " + child + " is not owned by the monitor", () -> graph.delete(child));
        graph.delete("r1");
        assertTrue(graph.nodes().isEmpty(), "the inline child went with its parent");
    }

    @Test
    void negativeSizesAreRefusedInsteadOfCrashing() {
        // qemu-storage-daemon 7.2 aborts on null-co size=-1; we refuse it.
        assertThrows(IllegalArgumentException.class, () -> new BlockdevOptions.NullCo("n", -1, false, 0, false));
        BlockNode n = graph.add(BlockdevOptions.NullCo.of("n"));
        assertError("Parameter 'size' expects a >0 size", () -> graph.resize(n, -1));
        assertError("Image format driver does not support resize", () -> graph.resize(n, 4096));
    }

    @Test
    void graphChangesNeedTheGlobalLock() {
        GlobalLock.unlock();
        try {
            assertThrows(IllegalStateException.class, () -> graph.add(BlockdevOptions.NullCo.of("n")));
        } finally {
            GlobalLock.lock();
        }
    }
}
