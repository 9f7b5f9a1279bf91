package llmq.bench.rig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import llmq.common.kafka.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Kafka clients for the scenarios, configured as llmq's own (acks=all, idempotent, read_committed). */
public final class Kafka {

    private final KafkaConfig config;

    public Kafka(KafkaConfig config) {
        this.config = config;
    }

    public KafkaConfig config() {
        return config;
    }

    /** llmq's producer settings with {@code linger.ms=0}: the generator sends one request at a time. */
    public KafkaProducer<String, byte[]> producer() {
        return producer(0);
    }

    /** Exactly llmq's producer settings (linger 1 ms, the default 16 KiB batches), as ingest-api writes intake. */
    public KafkaProducer<String, byte[]> ingestProducer() {
        return new KafkaProducer<>(config.producer("bench-" + UUID.randomUUID()), new StringSerializer(),
                new ByteArraySerializer());
    }

    /** llmq's producer settings with {@code lingerMs} (larger batches for bulk loads). */
    public KafkaProducer<String, byte[]> producer(int lingerMs) {
        Map<String, Object> p = new HashMap<>(config.producer("bench-" + UUID.randomUUID()));
        p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        if (lingerMs > 0) {
            p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        }
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * A read-committed consumer assigned every partition of {@code topics}, positioned at their end
     * (it sees only what is written from now on); no group, no commits.
     */
    public KafkaConsumer<String, byte[]> tail(Collection<String> topics) {
        Map<String, Object> c = new HashMap<>(config.common("bench-" + UUID.randomUUID()));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return consumer;
    }

    public Admin admin() {
        return Admin.create(config.common("bench-admin-" + UUID.randomUUID()));
    }

    /**
     * Commits {@code groupId}'s offsets at the current end of {@code topics}, so a service started in
     * that new group (or Streams application) takes only what is produced from now on.
     */
    public void startGroupAtEnd(String groupId, Collection<String> topics) {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            admin.describeTopics(topics).allTopicNames().get().forEach((name, d) ->
                    d.partitions().forEach(p -> request.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            admin.listOffsets(request).all().get().forEach((tp, info) -> offsets.put(tp, new OffsetAndMetadata(info.offset())));
            admin.alterConsumerGroupOffsets(groupId, offsets).all().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot set offsets of " + groupId, e.getCause());
        }
    }
}
