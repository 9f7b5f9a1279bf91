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

    /**
     * A request admitted by dedup. {@code local}: its intake record was keyed by its request id, so it
     * is already in the partition of its request id and goes to the scheduler in the same task (one
     * transaction); otherwise it is re-keyed through the repartition topic first.
     */
    record Admitted(QueuedRequest queued, boolean local) implements Routed {
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
