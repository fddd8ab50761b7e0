package qmpd.qmp.qom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import qmpd.aio.annotation.GlobalState;
import qmpd.config.error.QmpException;
import qmpd.config.schema.EventLoopProperties;
import qmpd.config.schema.IothreadProperties;
import qmpd.config.schema.MainLoopProperties;
import qmpd.loop.GlobalLock;
import qmpd.qmp.json.GHashOrder;

/**
 * The user-creatable objects under {@code /objects} (QEMU qom/object_interfaces.c): IOThreads and
 * the single {@code main-loop} object, with their integer properties, as {@code object-add},
 * {@code object-del}, {@code qom-list/get/set} and {@code query-iothreads} see them. Error texts are
 * QEMU 7.2's.
 *
 * <p>Threading: {@link GlobalState}: the main loop (QMP in-band commands, start-up) only.
 */
public final class QomObjects {
    private static final Logger LOG = LoggerFactory.getLogger(QomObjects.class);
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z][A-Za-z0-9\\-._]*");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** One property as {@code qom-list} shows it. */
    public record PropertyInfo(String name, String type) {
    }

    /** A user-created object: an IOThread or the main loop. */
    public sealed interface UserObject permits IOThreadObject, MainLoopObject {
        String id();

        /** The QOM type name: {@code iothread} or {@code main-loop}. */
        String typeName();
    }

    /** An IOThread and its running thread. */
    public static final class IOThreadObject implements UserObject {
        private final String id;
        private final IOThreadBackend.Handle handle;
        private IothreadProperties props;

        IOThreadObject(String id, IOThreadBackend.Handle handle, IothreadProperties props) {
            this.id = id;
            this.handle = handle;
            this.props = props;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public String typeName() {
            return "iothread";
        }

        /** The current properties, every member set. */
        public IothreadProperties properties() {
            return props;
        }

        public long threadId() {
            return handle.threadId();
        }
    }

    /** The main loop's tunables. */
    public static final class MainLoopObject implements UserObject {
        private final String id;
        private MainLoopProperties props;

        MainLoopObject(String id, MainLoopProperties props) {
            this.id = id;
            this.props = props;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public String typeName() {
            return "main-loop";
        }

        public MainLoopProperties properties() {
            return props;
        }
    }

    private static final List<String> IOTHREAD_PROPS = List.of(
            "thread-pool-min", "aio-max-batch", "thread-pool-max", "poll-max-ns", "poll-grow", "poll-shrink");
    private static final List<String> MAIN_LOOP_PROPS = List.of("thread-pool-min", "aio-max-batch", "thread-pool-max");

    private final IOThreadBackend backend;
    private final IOThreadUsers users;
    private final Map<String, UserObject> objects = new LinkedHashMap<>();
    /** The child properties of /objects as QOM's GLib table holds them: its order is QEMU's listing order. */
    private final GHashOrder children = new GHashOrder();

    public QomObjects(IOThreadBackend backend, IOThreadUsers users) {
        this.backend = backend;
        this.users = users;
    }

    /** {@code object-add qom-type=iothread}; {@code props} as given (absent members default). */
    @GlobalState
    public IOThreadObject addIothread(String id, IothreadProperties props) {
        GlobalLock.assertHeld();
        checkId(id);
        IothreadProperties full = props.withDefaults();
        checkRanges(full.aioMaxBatch(), full.threadPoolMin(), full.threadPoolMax(),
                full.pollMaxNs(), full.pollGrow(), full.pollShrink());
        checkDuplicate(id);
        children.insert(id);   // QEMU adds the child before completing the object
        try {
            checkPool(full);
        } catch (QmpException e) {
            children.remove(id);
            throw e;
        }
        IOThreadObject o = new IOThreadObject(id, backend.start(id, full), full);
        objects.put(id, o);
        LOG.info("event=iothread-created id={} thread-id={}", id, o.threadId());
        return o;
    }

    /** {@code object-add qom-type=main-loop}: at most one may exist. */
    @GlobalState
    public MainLoopObject addMainLoop(String id, MainLoopProperties props) {
        GlobalLock.assertHeld();
        checkId(id);
        MainLoopProperties full = props.withDefaults();
        checkRanges(full.aioMaxBatch(), full.threadPoolMin(), full.threadPoolMax());
        checkDuplicate(id);
        children.insert(id);
        try {
            checkPool(full);
            if (objects.values().stream().anyMatch(o -> o instanceof MainLoopObject)) {
                throw new QmpException.GenericError("only one main-loop instance allowed");
            }
        } catch (QmpException e) {
            children.remove(id);
            throw e;
        }
        MainLoopObject o = new MainLoopObject(id, full);
        objects.put(id, o);
        return o;
    }

    /** {@code object-del}: refuses the main loop and IOThreads that still have users. */
    @GlobalState
    public void delete(String id) {
        GlobalLock.assertHeld();
        UserObject o = objects.get(id);
        if (o == null) {
            throw new QmpException.GenericError("object '" + id + "' not found");
        }
        List<String> using = o instanceof IOThreadObject ? users.usersOf(id) : List.of();
        if (o instanceof MainLoopObject || !using.isEmpty()) {
            if (!using.isEmpty()) {
                LOG.info("event=iothread-delete-refused id={} users={}", id, using);
            }
            throw new QmpException.GenericError("object '" + id + "' is in use, can not be deleted");
        }
        objects.remove(id);
        children.remove(id);
        ((IOThreadObject) o).handle.stop();
        LOG.info("event=iothread-deleted id={}", id);
    }

    /** Every IOThread, in QEMU's order (its QOM property table's). */
    @GlobalState
    public List<IOThreadObject> iothreads() {
        List<IOThreadObject> list = new ArrayList<>();
        for (String id : children.keys()) {
            if (objects.get(id) instanceof IOThreadObject io) {
                list.add(io);
            }
        }
        return list;
    }

    /** The object called {@code id}, or null. */
    @GlobalState
    public UserObject find(String id) {
        return objects.get(id);
    }

    // ---- QOM paths: "/", "/objects", "/objects/<id>", or a partial path ("objects", "<id>") ----

    private sealed interface Node permits Root, Container, Leaf {
    }

    private record Root() implements Node {
    }

    private record Container() implements Node {
    }

    private record Leaf(UserObject object) implements Node {
    }

    private Node resolve(String path) {
        String p = path;
        if (p.equals("/")) {
            return new Root();
        }
        if (p.equals("/objects") || p.equals("objects")) {
            return new Container();
        }
        String id = p.startsWith("/objects/") ? p.substring("/objects/".length()) : p.startsWith("/") ? null : p;
        UserObject o = id == null ? null : objects.get(id);
        if (o == null) {
            throw new QmpException.DeviceNotFound("Device '" + path + "' not found");
        }
        return new Leaf(o);
    }

    /** {@code qom-list}. */
    @GlobalState
    public List<PropertyInfo> list(String path) {
        List<PropertyInfo> out = new ArrayList<>();
        out.add(new PropertyInfo("type", "string"));
        switch (resolve(path)) {
            case Root r -> out.add(new PropertyInfo("objects", "child<container>"));
            case Container c -> {
                // qom-list prepends while it walks the table, so it lists children in reverse
                List<String> ids = new ArrayList<>(children.keys());
                java.util.Collections.reverse(ids);
                ids.forEach(id -> out.add(new PropertyInfo(id, "child<" + objects.get(id).typeName() + ">")));
            }
            case Leaf l -> (l.object() instanceof IOThreadObject ? IOTHREAD_PROPS : MAIN_LOOP_PROPS)
                    .forEach(n -> out.add(new PropertyInfo(n, "int")));
        }
        return out;
    }

    /** {@code qom-get}. */
    @GlobalState
    public JsonNode get(String path, String property) {
        Node node = resolve(path);
        if (property.equals("type")) {
            return NODES.textNode(switch (node) {
                case Root r -> "container";
                case Container c -> "container";
                case Leaf l -> l.object().typeName();
            });
        }
        switch (node) {
            case Root r -> {
                if (property.equals("objects")) {
                    return NODES.textNode("/objects");
                }
            }
            case Container c -> {
                if (objects.containsKey(property)) {
                    return NODES.textNode("/objects/" + property);
                }
            }
            case Leaf l -> {
                Long v = intProperty(l.object(), property);
                if (v != null) {
                    return NODES.numberNode(v);
                }
            }
        }
        throw notFound(node, property);
    }

    /** {@code qom-set}: only the integer properties of IOThreads and the main loop are writable. */
    @GlobalState
    public void set(String path, String property, JsonNode value) {
        GlobalLock.assertHeld();
        Node node = resolve(path);
        if (property.equals("type") || !(node instanceof Leaf leaf) || intProperty(leaf.object(), property) == null) {
            if (property.equals("type") || (node instanceof Container && objects.containsKey(property))
                    || (node instanceof Root && property.equals("objects"))) {
                throw new QmpException.GenericError("Property '" + typeOf(node) + "." + property + "' is not writable");
            }
            throw notFound(node, property);
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new QmpException.GenericError("Invalid parameter type for '" + property + "', expected: integer");
        }
        long v = value.longValue();
        checkRange(property, v);
        switch (leaf.object()) {
            case IOThreadObject io -> {
                IothreadProperties p = io.props;
                IothreadProperties next = new IothreadProperties(
                        property.equals("aio-max-batch") ? v : p.aioMaxBatch(),
                        property.equals("thread-pool-min") ? v : p.threadPoolMin(),
                        property.equals("thread-pool-max") ? v : p.threadPoolMax(),
                        property.equals("poll-max-ns") ? v : p.pollMaxNs(),
                        property.equals("poll-grow") ? v : p.pollGrow(),
                        property.equals("poll-shrink") ? v : p.pollShrink());
                checkPool(next);
                io.handle.update(next);
                io.props = next;
            }
            case MainLoopObject ml -> {
                MainLoopProperties p = ml.props;
                MainLoopProperties next = new MainLoopProperties(
                        property.equals("aio-max-batch") ? v : p.aioMaxBatch(),
                        property.equals("thread-pool-min") ? v : p.threadPoolMin(),
                        property.equals("thread-pool-max") ? v : p.threadPoolMax());
                checkPool(next);
                ml.props = next;
            }
        }
    }

    private static String typeOf(Node node) {
        return node instanceof Leaf l ? l.object().typeName() : "container";
    }

    private static QmpException notFound(Node node, String property) {
        return new QmpException.GenericError("Property '" + typeOf(node) + "." + property + "' not found");
    }

    private static Long intProperty(UserObject o, String property) {
        EventLoopProperties base = switch (o) {
            case IOThreadObject io -> io.props;
            case MainLoopObject ml -> ml.props;
        };
        switch (property) {
            case "aio-max-batch": return base.aioMaxBatch();
            case "thread-pool-min": return base.threadPoolMin();
            case "thread-pool-max": return base.threadPoolMax();
            default: break;
        }
        if (o instanceof IOThreadObject io) {
            return switch (property) {
                case "poll-max-ns" -> io.props.pollMaxNs();
                case "poll-grow" -> io.props.pollGrow();
                case "poll-shrink" -> io.props.pollShrink();
                default -> null;
            };
        }
        return null;
    }

    private static void checkId(String id) {
        if (!IDENTIFIER.matcher(id).matches()) {
            throw new QmpException.GenericError("Parameter 'id' expects an identifier");
        }
    }

    private void checkDuplicate(String id) {
        if (objects.containsKey(id)) {
            throw new QmpException.GenericError(
                    "attempt to add duplicate property '" + id + "' to object (type 'container')");
        }
    }

    /** QEMU event-loop-base.c: every property is an int64 that must not be negative. */
    private static void checkRanges(Long aioMaxBatch, Long min, Long max, Long... poll) {
        checkRange("aio-max-batch", aioMaxBatch);
        checkRange("thread-pool-min", min);
        checkRange("thread-pool-max", max);
        String[] names = {"poll-max-ns", "poll-grow", "poll-shrink"};
        for (int i = 0; i < poll.length; i++) {
            checkRange(names[i], poll[i]);
        }
    }

    private static void checkRange(String name, long v) {
        if (v < 0) {
            throw new QmpException.GenericError(name + " value must be in range [0, " + Long.MAX_VALUE + "]");
        }
    }

    /** QEMU aio_context_set_thread_pool_params: 0 < max, min <= max, both within int. */
    private static void checkPool(EventLoopProperties p) {
        long min = p.threadPoolMin();
        long max = p.threadPoolMax();
        if (min > max || max == 0 || min > Integer.MAX_VALUE || max > Integer.MAX_VALUE) {
            throw new QmpException.GenericError("bad thread-pool-min/thread-pool-max values");
        }
    }

    /** Stops every IOThread (daemon shutdown). */
    @GlobalState
    public void stopAll() {
        for (IOThreadObject io : iothreads()) {
            io.handle.stop();
        }
        objects.keySet().forEach(children::remove);
        objects.clear();
    }
}
