package llmq.worker.endpoints;

/** What the pool answered when asked for an endpoint for a request. */
public sealed interface Selection permits Selection.Acquired, Selection.Busy, Selection.Unroutable {

    /** An endpoint was reserved: make the call with the lease. */
    record Acquired(Lease lease) implements Selection {
    }

    /**
     * Endpoints serve the model but none can take a call now (all at their concurrency or rate
     * limit, or all unavailable); ask again later.
     */
    record Busy(String why) implements Selection {
    }

    /** No endpoint serves the model at all: a configuration matter, not worth retrying. */
    record Unroutable(String why) implements Selection {
    }
}
