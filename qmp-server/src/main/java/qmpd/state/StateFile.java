package qmpd.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import qmpd.aio.AioContext;
import qmpd.aio.annotation.AnyThread;
import qmpd.aio.annotation.GlobalState;
import qmpd.aio.annotation.HomeThread;
import qmpd.aio.annotation.WorkerThread;
import qmpd.aio.pool.ThreadPool;
import qmpd.config.json.Json;
import qmpd.qmp.command.CommandObserver;

/**
 * {@code --state-file}: the QMP changes made since start-up (objects, block nodes, the NBD server,
 * exports), kept as the list of commands that recreate them, compacted (an add and its delete
 * cancel out), and restored at the next start before clients are served.
 *
 * <p>Every successful change is written before its reply leaves: the whole file is written to a
 * temporary file, fsynced, renamed over the old one, and the directory fsynced, on a private
 * one-thread worker pool so writes stay in order and the main loop never blocks on the disk. A
 * SIGKILL at any moment leaves either the old or the new file.
 *
 * <p>Threading: {@code journal} belongs to the main loop (GlobalLock); the file is written only by
 * the single worker.
 */
public final class StateFile implements CommandObserver, AutoCloseable {

    /** The commands whose success changes what a restart must restore. */
    static final Set<String> RECORDED = Set.of("object-add", "object-del", "qom-set", "blockdev-add", "blockdev-del",
            "block_resize", "x-blockdev-set-iothread", "nbd-server-start", "nbd-server-stop", "nbd-server-add",
            "nbd-server-remove", "block-export-add", "block-export-del");
    private static final int FORMAT = 1;

    /** A state file that cannot be restored: the file is left as it is. */
    public static final class StateFileException extends Exception {
        public StateFileException(String message) {
            super(message, null, false, false);
        }
    }

    /** One recorded command. */
    public record Entry(String execute, ObjectNode arguments) {
    }

    private final Path path;
    private final List<Entry> journal;
    private final ThreadPool writer;

    private StateFile(Path path, List<Entry> restored, AioContext mainCtx) {
        this.path = path;
        this.journal = new ArrayList<>(restored);
        this.writer = new ThreadPool(mainCtx, 0, 1);   // one worker: writes land in order
    }

    /**
     * Reads the commands to restore; a missing file is an empty state.
     *
     * @throws StateFileException naming the file, where it is wrong and what was expected
     */
    @AnyThread
    public static List<Entry> load(Path path) throws StateFileException {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new StateFileException(path + ": cannot be read: " + e.getMessage());
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new StateFileException(path + ": not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()
                    + "); the file is left untouched");
        }
        if (root == null || !root.isObject() || root.path("format").asInt(-1) != FORMAT || !root.path("commands").isArray()) {
            throw new StateFileException(path + ": expected {\"format\": " + FORMAT
                    + ", \"commands\": [...]}; the file is left untouched");
        }
        List<Entry> out = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root.get("commands")) {
            if (!c.isObject() || !c.path("execute").isTextual() || !RECORDED.contains(c.get("execute").asText())
                    || (c.has("arguments") && !c.get("arguments").isObject())) {
                throw new StateFileException(path + ": commands[" + i + "]: expected {\"execute\": <a recorded command>, "
                        + "\"arguments\": {...}}; the file is left untouched");
            }
            out.add(new Entry(c.get("execute").asText(),
                    c.has("arguments") ? (ObjectNode) c.get("arguments") : Json.mapper().createObjectNode()));
            i++;
        }
        return out;
    }

    /** Starts recording on top of {@code restored} (what {@link #load} returned and start-up applied). */
    @HomeThread
    public static StateFile open(Path path, List<Entry> restored, AioContext mainCtx) {
        return new StateFile(path, restored, mainCtx);
    }

    @Override
    @GlobalState
    public CompletionStage<Void> succeeded(String name, ObjectNode args) {
        if (!RECORDED.contains(name)) {
            return null;
        }
        record(name, args.deepCopy());
        String text = render();
        return writer.submit("state-file-write", () -> {
            write(text);
            return null;
        }).result().thenApply(x -> null);
    }

    /** The commands currently recorded (tests, diagnostics). */
    @GlobalState
    public List<Entry> entries() {
        return List.copyOf(journal);
    }

    /** Appends a change, or cancels it against the earlier change it undoes. */
    @GlobalState
    void record(String name, ObjectNode a) {
        switch (name) {
            case "object-del" -> {
                if (!removeAdd("object-add", e -> e.path("id").asText().equals(a.path("id").asText()))) {
                    journal.add(new Entry(name, a));
                }
            }
            case "blockdev-del" -> {
                String node = a.path("node-name").asText();
                if (removeAdd("blockdev-add", e -> e.path("node-name").asText().equals(node))) {
                    // What was done to the node goes with it.
                    journal.removeIf(e -> (e.execute().equals("x-blockdev-set-iothread") || e.execute().equals("block_resize"))
                            && node.equals(e.arguments().path("node-name").asText()));
                } else {
                    journal.add(new Entry(name, a));
                }
            }
            case "block-export-del", "nbd-server-remove" -> {
                String id = a.path(name.equals("block-export-del") ? "id" : "name").asText();
                boolean removed = removeAdd("block-export-add", e -> e.path("id").asText().equals(id))
                        || removeAdd("nbd-server-add", e -> e.path("name").asText(e.path("device").asText()).equals(id));
                if (!removed) {
                    journal.add(new Entry(name, a));
                }
            }
            case "nbd-server-stop" -> {
                // Stopping the server ends every NBD export with it.
                journal.removeIf(e -> e.execute().equals("nbd-server-add")
                        || (e.execute().equals("block-export-add") && "nbd".equals(e.arguments().path("type").asText())));
                if (!removeAdd("nbd-server-start", e -> true)) {
                    journal.add(new Entry(name, a));
                }
            }
            case "x-blockdev-set-iothread", "block_resize" -> {
                String node = a.path("node-name").asText(a.path("device").asText());
                journal.removeIf(e -> e.execute().equals(name)
                        && node.equals(e.arguments().path("node-name").asText(e.arguments().path("device").asText())));
                journal.add(new Entry(name, a));
            }
            default -> journal.add(new Entry(name, a));
        }
    }

    private boolean removeAdd(String add, Predicate<ObjectNode> matches) {
        for (int i = journal.size() - 1; i >= 0; i--) {
            Entry e = journal.get(i);
            if (e.execute().equals(add) && matches.test(e.arguments())) {
                journal.remove(i);
                return true;
            }
        }
        return false;
    }

    private String render() {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("format", FORMAT);
        ArrayNode cmds = root.putArray("commands");
        for (Entry e : journal) {
            cmds.addObject().put("execute", e.execute()).set("arguments", e.arguments());
        }
        try {
            return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Temporary file, fsync, rename, fsync of the directory. */
    @WorkerThread
    private void write(String text) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Waits for queued writes; in the main loop, at shutdown. */
    @HomeThread
    @Override
    public void close() {
        writer.close();
    }
}
