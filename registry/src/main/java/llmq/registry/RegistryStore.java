package llmq.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import llmq.common.kafka.KafkaConfig;
import llmq.schemas.compat.Compatibility;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's durable store: a single-partition compacted Kafka topic replayed into a
 * {@link RegistryState} at start, then followed by a reader thread. A write is acknowledged
 * only after the reader has applied it, so what a client registers it can read back at once,
 * and the same holds after a restart. One writing instance at a time (a development registry).
 */
final class RegistryStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String topic;
    private final KafkaProducer<String, String> producer;
    private final KafkaConsumer<String, String> consumer;
    private final RegistryState state = new RegistryState();
    private final Thread reader;
    /** Serialises writers, so that ids and versions are assigned from state that includes every earlier write. */
    private final java.util.concurrent.locks.ReentrantLock writes = new java.util.concurrent.locks.ReentrantLock();
    private long applied = -1;
    private volatile boolean running = true;
    private volatile RuntimeException readerFailure;

    RegistryStore(KafkaConfig kafka, String topic) throws InterruptedException, ExecutionException {
        this.topic = topic;
        try (Admin admin = Admin.create(kafka.common("llmq-registry-admin"))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) -1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        Map<String, Object> p = new HashMap<>(kafka.producer("llmq-registry"));
        p.put("linger.ms", 0);
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        Map<String, Object> c = new HashMap<>(kafka.common("llmq-registry-reader"));
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
        TopicPartition tp = new TopicPartition(topic, 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        while (consumer.position(tp) < end) {
            consumer.poll(Duration.ofMillis(200)).forEach(this::apply);
        }
        synchronized (this) {
            applied = consumer.position(tp) - 1;
        }
        reader = new Thread(this::follow, "llmq-registry-reader");
        reader.setDaemon(true);
        reader.start();
        LOG.info("schema registry store loaded from {} ({} subjects)", topic, state.subjects().size());
    }

    private void follow() {
        TopicPartition tp = new TopicPartition(topic, 0);
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(500));
                synchronized (this) {
                    records.forEach(this::apply);
                    applied = consumer.position(tp) - 1;
                    notifyAll();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                readerFailure = new IllegalStateException("registry reader woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            readerFailure = e;
            LOG.error("schema registry reader failed", e);
        } finally {
            consumer.close();
        }
    }

    private void apply(ConsumerRecord<String, String> r) {
        try {
            JsonNode key = JSON.readTree(r.key());
            JsonNode value = r.value() == null ? null : JSON.readTree(r.value());
            switch (key.path("keytype").asText()) {
                case "SCHEMA" -> {
                    if (value != null) {
                        state.applyVersion(new RegistryState.Version(value.path("subject").asText(),
                                value.path("version").asInt(), value.path("id").asInt(),
                                new Schema.Parser().parse(value.path("schema").asText()),
                                value.path("deleted").asBoolean(false)));
                    }
                }
                case "CONFIG" -> state.applyConfig(key.path("subject").isNull() ? null : key.path("subject").asText(null),
                        value == null ? null : Compatibility.parse(value.path("compatibilityLevel").asText()));
                default -> LOG.warn("ignoring unknown registry record at offset {}: {}", r.offset(), r.key());
            }
        } catch (Exception e) {
            // a record this version cannot read must not stop the registry
            LOG.warn("skipping unreadable registry record at offset {}: {}", r.offset(), e.toString());
        }
    }

    /** Runs a read against the current state. */
    synchronized <T> T read(java.util.function.Function<RegistryState, T> query) {
        checkReader();
        return query.apply(state);
    }

    /**
     * Registers a schema version (idempotent per subject and schema) if {@code admit} accepts it
     * against the current state; returns the version, or throws what {@code admit} throws.
     */
    RegistryState.Version register(String subject, Schema schema,
                                   java.util.function.BiConsumer<RegistryState, Schema> admit) {
        writes.lock();
        try {
            RegistryState.Version v;
            synchronized (this) {
                checkReader();
                Optional<RegistryState.Version> existing = state.find(subject, schema);
                if (existing.isPresent()) {
                    return existing.get();
                }
                admit.accept(state, schema);
                v = new RegistryState.Version(subject, state.nextVersion(subject), state.idFor(schema), schema, false);
            }
            write(subject, schema, v);
            return v;
        } finally {
            writes.unlock();
        }
    }

    private void write(String subject, Schema schema, RegistryState.Version v) {
        ObjectNode key = JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject).put("version", v.version());
        ObjectNode value = JSON.createObjectNode().put("subject", subject).put("version", v.version()).put("id", v.id())
                .put("schemaType", "AVRO").put("schema", schema.toString()).put("deleted", false);
        append(key.toString(), value.toString());
    }

    /** Sets (or with null clears) the compatibility level of a subject, or the global one when subject is null. */
    void setCompatibility(String subject, Compatibility level) {
        checkReader();
        ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG");
        if (subject == null) {
            key.putNull("subject");
        } else {
            key.put("subject", subject);
        }
        String value = level == null ? null
                : JSON.createObjectNode().put("compatibilityLevel", level.name()).toString();
        writes.lock();
        try {
            append(key.toString(), value);
        } finally {
            writes.unlock();
        }
    }

    /** Writes one record and waits until the reader has applied it. Caller holds {@link #writes}. */
    private void append(String key, String value) {
        try {
            RecordMetadata md = producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            synchronized (this) {
                while (applied < md.offset()) {
                    checkReader();
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        throw new IllegalStateException("registry write at offset " + md.offset() + " not read back in 30 s");
                    }
                    wait(Math.min(left, 200));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing to the registry topic", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot write to the registry topic " + topic + ": " + e.getMessage(), e);
        }
    }

    private void checkReader() {
        if (readerFailure != null) {
            throw new IllegalStateException("registry store is not reading its topic: " + readerFailure, readerFailure);
        }
    }

    boolean healthy() {
        return readerFailure == null && reader.isAlive();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
