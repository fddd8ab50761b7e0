/**
 * The threads that run AioContexts: {@link qmpd.loop.MainLoop} (thread {@code main-loop}, with the
 * {@link qmpd.loop.GlobalLock}) and {@link qmpd.loop.IOThread}s (threads {@code iothread-<id>}),
 * and the {@link qmpd.loop.IOThreadRegistry} QMP's object-add/object-del and query-iothreads use.
 */
package qmpd.loop;
