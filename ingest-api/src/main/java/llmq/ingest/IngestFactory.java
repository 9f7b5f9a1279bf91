package llmq.ingest;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.nio.file.Files;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import llmq.avro.Priority;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusTopology;
import llmq.ingest.status.StatusView;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.Submitter;
import llmq.ingest.tenants.Authenticator;
import llmq.ingest.budgets.TenantBudgets;
import llmq.ingest.tenants.CompactedTopicsReader;
import llmq.ingest.tenants.KafkaTenantDirectory;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.StreamsApp;
import llmq.topics.streams.StreamsSettings;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Builds ingest-api's plain components from the layered {@link Settings} (registered as a
 * singleton at start-up), so the core classes are constructed, and tested, without Micronaut.
 */
@Factory
final class IngestFactory {

    @Singleton
    IngestConfig config(Settings settings) {
        return IngestConfig.from(settings);
    }

    @Singleton
    KafkaConfig kafka(Settings settings) {
        return KafkaConfig.from(settings);
    }

    @Singleton
    TopicCatalog catalog(Settings settings) {
        return TopicCatalog.from(settings);
    }

    @Singleton
    TopicSerdes serdes(KafkaConfig kafka) {
        return new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
    }

    @Singleton
    @Bean(preDestroy = "close")
    KafkaProducer<String, byte[]> producer(KafkaConfig kafka, IngestConfig config, PrometheusMeterRegistry metrics) {
        Map<String, Object> p = new HashMap<>(kafka.producer("llmq-ingest-api"));
        long timeout = config.kafkaTimeout().toMillis();
        // the send future fails on its own within the timeout, so a client never gets a 503 for a
        // request that is then written anyway
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(50, timeout - 10));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        new KafkaClientMetrics(producer).bindTo(metrics);
        return producer;
    }

    /** Fetches metadata of the topics ingest writes, so the first request does not pay for it. */
    static void warmUp(KafkaProducer<String, byte[]> producer, TopicCatalog catalog) {
        try {
            for (Priority p : Priority.values()) {
                producer.partitionsFor(catalog.intake(p).name());
            }
            producer.partitionsFor(catalog.events().name());
        } catch (RuntimeException e) {
            // Kafka not reachable yet: the first requests fetch metadata themselves
            org.slf4j.LoggerFactory.getLogger(IngestFactory.class).warn("cannot prefetch topic metadata: {}", e.toString());
        }
    }

    @Singleton
    RecentlyAccepted recent() {
        return new RecentlyAccepted(Duration.ofMinutes(2), 100_000);
    }

    @Context
    Submitter submitter(KafkaProducer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes,
                        RecentlyAccepted recent, PrometheusMeterRegistry metrics, TenantBudgets budgets) {
        warmUp(producer, catalog);
        return new Submitter(producer, catalog, serdes, recent, metrics, budgets);
    }

    @Singleton
    SubmitParser parser(IngestConfig config) {
        return new SubmitParser(config.maxMessages(), config.maxMetadata());
    }

    @Singleton
    KafkaTenantDirectory tenants() {
        return new KafkaTenantDirectory(Clock.systemUTC());
    }

    @Singleton
    TenantBudgets budgets(PrometheusMeterRegistry metrics) {
        return new TenantBudgets(Clock.systemUTC(), metrics);
    }

    /**
     * Follows {@code llm.config.tenants}, {@code llm.config.api-keys} and {@code llm.budgets} into the
     * tenant directory and the budgets, from the beginning of the compacted topics, on every instance.
     */
    @Context
    @Bean(preDestroy = "close")
    CompactedTopicsReader configReader(KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                                       KafkaTenantDirectory tenants, TenantBudgets budgets) {
        Map<String, Object> c = new HashMap<>(kafka.common("llmq-ingest-config"));
        // budgets are written in billing's transactions: never show an aborted one
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        String tenantsTopic = catalog.configTenants().name();
        String keysTopic = catalog.configApiKeys().name();
        String budgetsTopic = catalog.budgets().name();
        CompactedTopicsReader reader = new CompactedTopicsReader("llmq-ingest-config-reader", consumer, Map.of(
                tenantsTopic, (topic, key, value) -> tenants.onTenant(key,
                        serdes.value(catalog.configTenants()).deserialize(topic, value)),
                keysTopic, (topic, key, value) -> tenants.onApiKey(key,
                        serdes.value(catalog.configApiKeys()).deserialize(topic, value)),
                budgetsTopic, (topic, key, value) -> budgets.onBudget(key,
                        serdes.value(catalog.budgets()).deserialize(topic, value))));
        tenants.readyWhen(reader::ready);
        return reader.start();
    }

    @Singleton
    Authenticator authenticator(KafkaTenantDirectory tenants) {
        return new Authenticator(tenants);
    }

    @Context
    @Bean(preDestroy = "close")
    StatusView status(IngestConfig config, KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                      PrometheusMeterRegistry metrics) {
        try {
            Files.createDirectories(config.statusStateDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> props = StreamsSettings.build(kafka, config.statusApplicationId(), config.statusStateDir(),
                Duration.ofMillis(100), 1, "ingest-status", Map.of());
        // a status view tolerates replays (the fold is monotonic), so it runs at-least-once and
        // shows changes as soon as they are processed
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        StatusTopology.optimizations().forEach((k, v) -> props.put((String) k, v));
        props.putAll(config.streamsOverrides());
        return new StatusView(StreamsApp.start("ingest-status", StatusTopology.build(catalog, serdes), props, metrics));
    }
}
