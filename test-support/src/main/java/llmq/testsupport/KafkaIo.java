package llmq.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;
import java.util.function.Supplier;
import llmq.topics.catalog.TopicSpec;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces to and reads from the shared test broker for integration tests: Avro values through
 * the infrastructure's serdes, raw bytes, {@code read_committed} reads from the beginning of a
 * topic filtered by the test's own ids, and consumer-group offsets. Waits are bounded polls
 * ({@link #TIMEOUT}); they return what they saw and leave the verdict to the test's assertions.
 */
public final class KafkaIo implements AutoCloseable {

    /** Upper bound of every wait; generous, because only a failing test ever waits this long. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** A decoded record. */
    public record Received<V>(String topic, int partition, long offset, String key, V value) {
    }

    private final Infra infra;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;

    public KafkaIo(Infra infra) {
        this.infra = infra;
        Map<String, Object> p = new HashMap<>(infra.kafkaConfig().producer("llmq-it-producer"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.admin = infra.admin();
    }

    /** Sends an Avro value and waits for the broker's acknowledgement. */
    public <V extends SpecificRecord> RecordMetadata send(TopicSpec<V> topic, String key, V value) {
        return send(topic, null, key, value);
    }

    /** Sends an Avro value to a chosen partition (null: by key) and waits for the acknowledgement. */
    public <V extends SpecificRecord> RecordMetadata send(TopicSpec<V> topic, Integer partition, String key, V value) {
        return sendRaw(topic.name(), partition, key, infra.serdes().value(topic).serialize(topic.name(), value));
    }

    /** Sends raw bytes (e.g. a value that is not Avro) and waits for the acknowledgement. */
    public RecordMetadata sendRaw(String topic, Integer partition, String key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, partition, key, value)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("send to " + topic + " failed", e.getCause());
        }
    }

    /**
     * Reads {@code topic} from the beginning until {@code count} records match {@code filter} or
     * {@link #TIMEOUT} passes, and returns the matches seen (possibly fewer).
     */
    public <V extends SpecificRecord> List<Received<V>> await(TopicSpec<V> topic, Predicate<Received<V>> filter, int count) {
        List<Received<V>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(topic.name())) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    decode(topic, r, filter, out);
                }
            }
        }
        return out;
    }

    /** Every record of {@code topic} matching {@code filter}, up to the current (committed) end. */
    public <V extends SpecificRecord> List<Received<V>> readAll(TopicSpec<V> topic, Predicate<Received<V>> filter) {
        List<Received<V>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(topic.name())) {
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!reached(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic.name() + " to its end " + end);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    decode(topic, r, filter, out);
                }
            }
        }
        return out;
    }

    /**
     * Commits {@code groupId}'s offsets at the current end of {@code topics}, so that a service
     * started in that (new) group takes only what is produced from now on, not the records other
     * tests left on the shared broker.
     */
    public void startGroupAtEnd(String groupId, Collection<String> topics) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        endOffsets(topics).forEach((tp, end) -> offsets.put(tp, new OffsetAndMetadata(end)));
        try {
            admin.alterConsumerGroupOffsets(groupId, offsets).all().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot set offsets of " + groupId, e.getCause());
        }
    }

    /** The committed offsets of {@code groupId}. */
    public Map<TopicPartition, Long> committed(String groupId) {
        try {
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get()
                    .forEach((tp, om) -> {
                        if (om != null) {
                            out.put(tp, om.offset());
                        }
                    });
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read offsets of " + groupId, e.getCause());
        }
    }

    /**
     * Waits until {@code groupId} has committed the end of every partition of {@code topics}
     * (written without transactions), i.e. its service has finished everything produced so far.
     */
    public void awaitCaughtUp(String groupId, Collection<String> topics) {
        Map<TopicPartition, Long> end = endOffsets(topics);
        Map<TopicPartition, Long> behind = until(() -> {
            Map<TopicPartition, Long> committed = committed(groupId);
            Map<TopicPartition, Long> lag = new HashMap<>();
            end.forEach((tp, e) -> {
                long c = committed.getOrDefault(tp, 0L);
                if (c < e) {
                    lag.put(tp, e - c);
                }
            });
            return lag;
        }, Map::isEmpty);
        if (!behind.isEmpty()) {
            throw new AssertionError(groupId + " did not catch up within " + TIMEOUT + "; lag " + behind);
        }
    }

    /**
     * Polls {@code probe} every 100 ms until {@code done} accepts its value or {@link #TIMEOUT}
     * passes; returns the last value.
     */
    public static <T> T until(Supplier<T> probe, Predicate<T> done) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        T value = probe.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return value;
            }
            value = probe.get();
        }
        return value;
    }

    private Map<TopicPartition, Long> endOffsets(Collection<String> topics) {
        try {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            admin.describeTopics(topics).allTopicNames().get().forEach((name, d) ->
                    d.partitions().forEach(p ->
                            request.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
            Map<TopicPartition, Long> out = new HashMap<>();
            for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e
                    : admin.listOffsets(request).all().get().entrySet()) {
                out.put(e.getKey(), e.getValue().offset());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list offsets of " + topics, e.getCause());
        }
    }

    private KafkaConsumer<String, byte[]> fromBeginning(String topic) {
        Map<String, Object> c = new HashMap<>(infra.kafkaConfig().common("llmq-it-reader"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(topic)) {
            partitions.add(new TopicPartition(topic, p.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private static boolean reached(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private <V extends SpecificRecord> void decode(TopicSpec<V> topic, ConsumerRecord<String, byte[]> r,
                                                   Predicate<Received<V>> filter, List<Received<V>> out) {
        V value;
        try {
            value = infra.serdes().value(topic).deserialize(r.topic(), r.value());
        } catch (RuntimeException e) {
            return; // another test's deliberately broken record: never one of ours
        }
        Received<V> rec = new Received<>(r.topic(), r.partition(), r.offset(), r.key(), value);
        if (value != null && filter.test(rec)) {
            out.add(rec);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
