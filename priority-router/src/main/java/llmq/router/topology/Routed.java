package llmq.router.topology;

import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;

/**
 * What the router's processors emit, before the topology routes each kind to its topic. Never
 * serialized: each branch maps it to its Avro record.
 */
public sealed interface Routed {

    /** A classified request for {@code llm.requests.<level>}, keyed by dedup key. */
    record Intake(LlmRequest request, Priority level) implements Routed {
    }

    /** A request admitted by dedup, to be re-keyed by request id for the scheduler. */
    record Admitted(QueuedRequest queued) implements Routed {
    }

    /** A release into {@code llm.queue.<priority>}. */
    record Release(QueuedRequest queued) implements Routed {
    }

    /** A lifecycle event for {@code llm.events}. */
    record Event(RequestEvent event) implements Routed {
    }

    /** A final result the router decides (expired, cancelled) for {@code llm.results}. */
    record Result(LlmResult result) implements Routed {
    }

    /** A record that is not a valid request, for {@code llm.dlq}. */
    record Dead(DeadLetter letter) implements Routed {
    }
}
