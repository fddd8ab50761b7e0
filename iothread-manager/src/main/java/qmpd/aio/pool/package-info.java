/**
 * Blocking work off the event loops: threadlets (QEMU util/thread-pool.c).
 *
 * <ul>
 * <li>{@link qmpd.aio.pool.ThreadPool}: one per AioContext ({@code ThreadPool.of(ctx)}), or
 *     private with its own limits; min/max platform workers named {@code worker-<ctx>-<n>},
 *     idle shrink, cancel of queued work only, completions batched in one BottomHalf of the
 *     submitting context. {@code ThreadPool.runInWorker} is the "run in worker and come back"
 *     hop, expressed as a CompletionStage.</li>
 * <li>{@link qmpd.aio.pool.Threadlet}: the handle of one submitted unit, with one atomic state
 *     that settles cancel-vs-start.</li>
 * <li>{@link qmpd.aio.pool.LocklessRequestPool}: a fixed pool fed through a partitioned request
 *     array and fill/done flip bitmaps, with no lock on submit or completion.</li>
 * </ul>
 *
 * <p>Threads: submit and cancel run in the context's home thread; the work runs on a worker,
 * where {@code AioContext.current()} is null and nothing but the captured arguments may be
 * touched; every completion runs back in the home thread. Workers are never interrupted,
 * because an interrupt closes a FileChannel for all its users.
 */
package qmpd.aio.pool;
