/**
 * The event-loop core: {@link qmpd.aio.AioContext} and what runs in it (QEMU include/block/aio.h).
 *
 * <h2>Threading contract</h2>
 * Every public method carries one of the annotations of {@link qmpd.aio.annotation}:
 * <ul>
 * <li>{@code @AnyThread}: thread-safe and non-blocking: {@code runOnce}, {@code bhNew},
 *     {@code BottomHalf.schedule/cancel/delete}, {@code kick}, {@code EventNotifier.set},
 *     {@code setPollParams}, {@code stats}, {@code service}, {@code acquire/release}.</li>
 * <li>{@code @HomeThread}: the context's home thread, or a thread that has acquired the context
 *     (rule 2): timers, fd handlers, event-notifier handlers, {@code poll} (home thread only),
 *     {@code close}. Backed by {@code assert ctx.assertInHomeThread()}-style checks.</li>
 * </ul>
 * Callbacks (BHs, timers, fd and notifier handlers) always run in the home thread, with the context
 * lock held; in the main loop's context also with the GlobalLock held. They may call
 * {@code poll} to wait (see {@link qmpd.aio.AioWait}), so they must tolerate being re-entered
 * around such a call, and fd handlers must treat EAGAIN as "nothing to do".
 *
 * <h2>Lock order</h2>
 * GlobalLock, then at most one AioContext unless the GlobalLock is held (rule 3). IOThread
 * callbacks never take the GlobalLock.
 */
package qmpd.aio;
