package qmpd.aio.pool;

/**
 * A snapshot of a {@link ThreadPool}'s counters, for {@code query-*} answers and meters.
 *
 * @param threads        workers alive now
 * @param peakThreads    the most workers ever alive at once
 * @param idleThreads    workers waiting for work now
 * @param queueDepth     threadlets queued and not yet started
 * @param minThreads     the current thread-pool-min
 * @param maxThreads     the current thread-pool-max
 * @param submitted      threadlets ever submitted
 * @param completed      threadlets whose work ran to its end (including those that threw)
 * @param failed         of those, the ones whose work threw
 * @param cancelled      threadlets cancelled before they started
 * @param waitNanosTotal the sum over started threadlets of the time from submit to start
 */
public record ThreadPoolStats(int threads, int peakThreads, int idleThreads, int queueDepth,
                              int minThreads, int maxThreads,
                              long submitted, long completed, long failed, long cancelled,
                              long waitNanosTotal) {
}
