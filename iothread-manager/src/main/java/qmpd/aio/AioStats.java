package qmpd.aio;

/**
 * A snapshot of one AioContext's counters (read by the metrics module, never written by it).
 * Times are in nanoseconds; nested poll() iterations are counted inside their caller's dispatch time.
 *
 * @param iterations     poll() iterations, nested ones included
 * @param bhsRun         bottom-half callbacks run (reusable and one-shot)
 * @param fdEvents       fd-handler callbacks run
 * @param notifierEvents event-notifier callbacks run (the context's own wake-up notifier excluded)
 * @param timersFired    timer callbacks run
 * @param pollHits       busy-poll windows that ended with progress, i.e. without a syscall
 * @param busyPollNs     time spent busy-polling
 * @param blockedNs      time spent blocked in epoll_wait
 * @param dispatchNs     time spent in outermost iterations neither busy-polling nor blocked
 * @param pollWindowNs   the current adaptive busy-poll window
 * @param callbackErrors callbacks that threw
 */
public record AioStats(long iterations, long bhsRun, long fdEvents, long notifierEvents, long timersFired,
                       long pollHits, long busyPollNs, long blockedNs, long dispatchNs, long pollWindowNs,
                       long callbackErrors) {
}
