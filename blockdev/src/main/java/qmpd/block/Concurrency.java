package qmpd.block;

/**
 * What a driver declares about concurrent requests on one node (nbdkit's thread model). The node
 * layer enforces it: a SERIALIZE driver never sees a second request before the first completes.
 */
public enum Concurrency {
    /** One request at a time per node; the node queues the rest in order. */
    SERIALIZE_REQUESTS,
    /** Any number of requests in flight; the driver guards its own state. */
    PARALLEL
}
