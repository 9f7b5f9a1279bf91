package llmq.topics.replay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A range of a topic: per selected partition, the first offset to read and the offset to stop
 * before, resolved from {@link Position}s against the read-committed end of each partition.
 */
public record TopicRange(String topic, Map<TopicPartition, Long> start, Map<TopicPartition, Long> stop) {

    public TopicRange {
        start = new HashMap<>(start);
        stop = new HashMap<>(stop);
    }

    /** Resolves {@code from}/{@code to} (null: the current end) for {@code partitions} (empty: all). */
    public static TopicRange resolve(Admin admin, String topic, Set<Integer> partitions, Position from, Position to)
            throws InterruptedException, ExecutionException {
        List<TopicPartition> tps = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                .stream().map(p -> new TopicPartition(topic, p.partition()))
                .filter(tp -> partitions.isEmpty() || partitions.contains(tp.partition()))
                .collect(Collectors.toList());
        if (tps.isEmpty()) {
            throw new IllegalArgumentException("no such partition(s) " + partitions + " in " + topic);
        }
        Map<TopicPartition, Long> begin = offsets(admin, tps, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(admin, tps, OffsetSpec.latest());
        return new TopicRange(topic, at(admin, from, tps, begin, end),
                at(admin, to != null ? to : new Position.Latest(), tps, begin, end));
    }

    /** Records between start and stop. */
    public long size() {
        long n = 0;
        for (Map.Entry<TopicPartition, Long> e : start.entrySet()) {
            n += Math.max(0, stop.get(e.getKey()) - e.getValue());
        }
        return n;
    }

    /** Reads every committed record of the range, in partition order, calling {@code each}. */
    public void read(Map<String, Object> consumerConfig, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Map<String, Object> c = new HashMap<>(consumerConfig);
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> open = new ArrayList<>();
            start.forEach((tp, o) -> {
                if (o < stop.get(tp)) {
                    open.add(tp);
                }
            });
            consumer.assign(open);
            open.forEach(tp -> consumer.seek(tp, start.get(tp)));
            while (!open.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < stop.get(new TopicPartition(r.topic(), r.partition()))) {
                        each.accept(r);
                    }
                }
                open.removeIf(tp -> consumer.position(tp) >= stop.get(tp));
                consumer.assign(open);
            }
        }
    }

    private static Map<TopicPartition, Long> at(Admin admin, Position p, List<TopicPartition> tps,
                                                Map<TopicPartition, Long> begin, Map<TopicPartition, Long> end)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, Long> out = new HashMap<>();
        if (p instanceof Position.Earliest) {
            out.putAll(begin);
        } else if (p instanceof Position.Latest) {
            out.putAll(end);
        } else if (p instanceof Position.Offset o) {
            tps.forEach(tp -> out.put(tp, Math.max(begin.get(tp), Math.min(o.offset(), end.get(tp)))));
        } else if (p instanceof Position.Time t) {
            Map<TopicPartition, Long> byTime = offsets(admin, tps, OffsetSpec.forTimestamp(t.at().toEpochMilli()));
            tps.forEach(tp -> {
                long o = byTime.getOrDefault(tp, -1L);
                out.put(tp, o < 0 ? end.get(tp) : Math.min(o, end.get(tp)));
            });
        }
        return out;
    }

    /** Offsets by spec; "latest" is read-committed (a partition with an open transaction ends at its last stable offset). */
    static Map<TopicPartition, Long> offsets(Admin admin, List<TopicPartition> tps, OffsetSpec spec)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        tps.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get()
                .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }
}
