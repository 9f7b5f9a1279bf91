package llmq.router.topology;

import java.util.HashMap;
import java.util.Map;
import llmq.avro.Priority;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The order in which the scheduler's task takes what it has fetched. Kafka Streams picks, among a
 * task's partitions, the buffered record with the smallest timestamp. When the router is behind a
 * flood on one intake topic, that topic's records are older than everything else fetched with
 * them, so the workers' events (which free queue places) and realtime requests waited behind the
 * whole fetched flood. This extractor moves each input back by a lead of its kind: lifecycle
 * events most, then realtime, high and normal intake; low keeps its own time. Within a topic the
 * order is unchanged. A router further behind on a level than the lead between two levels takes
 * them in time order again. It works with {@code max.task.idle.ms=-1} (RouterService): otherwise
 * a task whose flooded partition ran dry waits for its next fetch before it takes anything else.
 *
 * <p>Only the order of processing changes: the router's outputs carry the wall-clock time at
 * which they were produced, not their input's timestamp. Timestamps never go below zero (Kafka
 * Streams would drop such a record).
 */
public final class ProcessingRank implements TimestampExtractor {

    /** How far ahead of low intake each kind is taken, in ms. */
    private static final long EVENTS_LEAD = 4 * 3_600_000L;
    private static final Map<Priority, Long> INTAKE_LEAD = Map.of(
            Priority.REALTIME, 3 * 3_600_000L,
            Priority.HIGH, 2 * 3_600_000L,
            Priority.NORMAL, 3_600_000L,
            Priority.LOW, 0L);

    private final Map<String, Long> leadByTopic;

    private ProcessingRank(Map<String, Long> leadByTopic) {
        this.leadByTopic = Map.copyOf(leadByTopic);
    }

    /** For the intake topics, each at its level's lead. */
    public static ProcessingRank intake(Map<String, Priority> levelByTopic) {
        Map<String, Long> leads = new HashMap<>();
        levelByTopic.forEach((topic, level) -> leads.put(topic, INTAKE_LEAD.get(level)));
        return new ProcessingRank(leads);
    }

    /** For the lifecycle events topic. */
    public static ProcessingRank events(String topic) {
        return new ProcessingRank(Map.of(topic, EVENTS_LEAD));
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        long ts = record.timestamp();
        if (ts < 0) {
            // no timestamp (an old producer): the partition's time, or now for its first record
            ts = partitionTime >= 0 ? partitionTime : System.currentTimeMillis();
        }
        return Math.max(0, ts - leadByTopic.getOrDefault(record.topic(), 0L));
    }
}
