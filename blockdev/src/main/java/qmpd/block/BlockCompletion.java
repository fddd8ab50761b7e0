package qmpd.block;

import qmpd.aio.annotation.HomeThread;

/** Called once per submitted request, in the home thread of the node the request was submitted to. */
@FunctionalInterface
public interface BlockCompletion {
    /** {@code req.result()} is {@code >= 0} on success, {@code -errno} on failure. */
    @HomeThread
    void completed(BlockRequest req);
}
