package llmq.worker.run;

import llmq.avro.QueuedRequest;
import llmq.worker.outcome.Outcomes;
import org.apache.kafka.common.TopicPartition;

/**
 * A queue record taken from Kafka and decoded, waiting for (or holding) a slot.
 *
 * @param tp           its partition
 * @param assignment   the number of the assignment it was taken in (see {@code WorkerLoop})
 * @param offset       its offset
 * @param request      the record's value
 * @param receivedNanos {@link System#nanoTime()} when the consumer handed it over
 */
public record Pending(TopicPartition tp, long assignment, long offset, QueuedRequest request, long receivedNanos)
        implements Outcomes.Source {
}
