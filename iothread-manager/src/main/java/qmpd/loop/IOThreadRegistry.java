package qmpd.loop;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import qmpd.aio.annotation.AnyThread;
import qmpd.config.error.QmpException;

/** The IOThreads by id (QEMU's /objects container, for object-add/object-del and query-iothreads). */
public final class IOThreadRegistry {
    private final ConcurrentMap<String, IOThread> byId = new ConcurrentHashMap<>();

    /** Registers {@code t}; its id must be new. */
    @AnyThread
    public void add(IOThread t) {
        Objects.requireNonNull(t, "iothread");
        if (byId.putIfAbsent(t.id(), t) != null) {
            throw QmpException.generic("attempt to add duplicate property '%s' to object (type 'container')", t.id());
        }
    }

    /** Unregisters and returns the IOThread; the caller stops it. */
    @AnyThread
    public IOThread remove(String id) {
        IOThread t = byId.remove(id);
        if (t == null) throw QmpException.generic("object '%s' not found", id);
        return t;
    }

    /** The IOThread with that id, or null. */
    @AnyThread
    public IOThread lookup(String id) {
        return byId.get(id);
    }

    /** A snapshot, sorted by id. */
    @AnyThread
    public List<IOThread> all() {
        Collection<IOThread> values = byId.values();
        return values.stream().sorted((a, b) -> a.id().compareTo(b.id())).toList();
    }
}
