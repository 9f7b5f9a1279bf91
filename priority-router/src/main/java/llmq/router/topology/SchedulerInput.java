package llmq.router.topology;

import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;

/** The scheduler's two inputs, merged into one stream (both keyed by request id, co-partitioned). */
public sealed interface SchedulerInput {

    /** A request dedup admitted. */
    record Admitted(QueuedRequest queued) implements SchedulerInput {
    }

    /** A lifecycle event or command from {@code llm.events}. */
    record Event(llmq.avro.RequestEvent event) implements SchedulerInput {
    }

    static SchedulerInput of(RequestEvent e) {
        return new Event(e);
    }

    static SchedulerInput of(QueuedRequest q) {
        return new Admitted(q);
    }
}
