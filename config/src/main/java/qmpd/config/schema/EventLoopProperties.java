package qmpd.config.schema;

/**
 * Properties shared by every event loop object (QEMU qapi/qom.json {@code EventLoopBaseProperties}):
 * {@code aio-max-batch}, {@code thread-pool-min}, {@code thread-pool-max}. Each is optional; a null
 * means "keep the default".
 */
public interface EventLoopProperties {
    /** Default of {@code thread-pool-max} (QEMU's THREAD_POOL_MAX_THREADS_DEFAULT). */
    long THREAD_POOL_MAX_DEFAULT = 64;

    Long aioMaxBatch();

    Long threadPoolMin();

    Long threadPoolMax();
}
