package llmq.worker.endpoints;

import llmq.avro.LlmRequest;

/** Where calls go: the endpoint pool, or a test's stand-in. Thread-safe. */
public interface Endpoints {

    /** Reserves an endpoint for {@code request}, without waiting. */
    Selection select(LlmRequest request);
}
