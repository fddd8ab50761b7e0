package qmpd.reliability;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What a qmpd process holds, seen from outside: open file descriptors by kind (sockets, eventfds,
 * epoll instances, pipes, the class path's jars as one kind, every other file by path) and threads
 * by name. The JIT compiler's threads come
 * and go with the JVM's compile queue, so they are listed apart ({@code jit}) and not compared.
 */
record Resources(Map<String, Integer> fds, Map<String, Integer> threads, Map<String, Integer> jit) {

    static Resources of(QmpdProcess d) throws IOException {
        Map<String, Integer> fds = new TreeMap<>();
        for (String target : d.fds()) {
            String kind = target.startsWith("socket:") ? "socket" : target.startsWith("pipe:") ? "pipe"
                    : target.endsWith(".jar") || target.endsWith("/lib/modules") ? "class path" : target;
            fds.merge(kind, 1, Integer::sum);
        }
        Map<String, Integer> threads = new TreeMap<>();
        Map<String, Integer> jit = new TreeMap<>();
        d.threads().forEach((name, n) -> (name.contains("CompilerThre") ? jit : threads).put(name, n));
        return new Resources(fds, threads, jit);
    }

    int fdCount() {
        return fds.values().stream().mapToInt(Integer::intValue).sum();
    }

    int threadCount() {
        return threads.values().stream().mapToInt(Integer::intValue).sum();
    }

    boolean sameAs(Resources o) {
        return fds.equals(o.fds) && threads.equals(o.threads);
    }

    /** Whose count differs from {@code base}: "name base->now". */
    String diff(Resources base) {
        StringBuilder s = new StringBuilder();
        diff(s, "fd", base.fds, fds);
        diff(s, "thread", base.threads, threads);
        return s.toString();
    }

    private static void diff(StringBuilder s, String what, Map<String, Integer> a, Map<String, Integer> b) {
        TreeMap<String, Integer> all = new TreeMap<>(a);
        b.forEach(all::putIfAbsent);
        for (String k : all.keySet()) {
            int x = a.getOrDefault(k, 0);
            int y = b.getOrDefault(k, 0);
            if (x != y) {
                s.append(what).append(" '").append(k).append("' ").append(x).append("->").append(y).append("; ");
            }
        }
    }

    /**
     * Waits until nothing but {@code allowed} threads (the idle-timeout worker pools) is left above
     * {@code base}, or {@code seconds} pass; returns the last snapshot. A bounded wait for the
     * daemon to finish closing, never a timing assertion: the caller compares what it returns.
     */
    static Resources settle(QmpdProcess d, Resources base, int seconds) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Resources now = of(d);
        while (!now.sameAs(base) && System.nanoTime() < deadline) {
            QmpdProcess.sleep(200);
            now = of(d);
        }
        return now;
    }

    /** Our worker pools' threads ({@code worker-<ctx>-<n>}): they exit after 10 s idle (QEMU's timeout). */
    static int workers(Map<String, Integer> threads) {
        return threads.entrySet().stream().filter(e -> e.getKey().startsWith("worker-"))
                .mapToInt(Map.Entry::getValue).sum();
    }

    static String summary(Resources r) {
        return r.fdCount() + " fds " + r.fds + ", " + r.threadCount() + " threads " + r.threads + ", jit " + r.jit;
    }
}
