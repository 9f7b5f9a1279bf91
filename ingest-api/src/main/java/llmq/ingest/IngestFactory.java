package llmq.ingest;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import llmq.avro.Priority;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.kafka.KafkaConfig;
import llmq.ingest.admin.AdminRequests;
import llmq.ingest.admin.AdminStore;
import llmq.ingest.admin.TierPresets;
import llmq.ingest.batches.BatchParser;
import llmq.ingest.batches.BatchSubmitter;
import llmq.ingest.batches.Batches;
import llmq.ingest.budgets.TenantBudgets;
import llmq.ingest.callbacks.CallbackDispatcher;
import llmq.ingest.callbacks.CallbackSigner;
import llmq.ingest.cluster.Peers;
import llmq.ingest.limits.RateLimiter;
import llmq.ingest.models.KnownModels;
import llmq.ingest.openai.ChatRequestParser;
import llmq.ingest.results.ResultWaiters;
import llmq.ingest.results.ResultsFollower;
import llmq.ingest.router.RouterClient;
import llmq.ingest.status.Cancellations;
import llmq.ingest.status.QueueStats;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusService;
import llmq.ingest.status.StatusTopology;
import llmq.ingest.submit.Intake;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.Submitter;
import llmq.ingest.tenants.Authenticator;
import llmq.ingest.tenants.CompactedTopicsReader;
import llmq.ingest.tenants.KafkaTenantDirectory;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
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
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds ingest-api's plain components from the layered {@link Settings} (registered as a
 * singleton at start-up), so the core classes are constructed, and tested, without Micronaut.
 */
@Factory
final class IngestFactory {

    private static final Logger LOG = LoggerFactory.getLogger(IngestFactory.class);

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
        // the send future fails on its own within the timeout, so a client never waits longer for its 503
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(50, timeout - 10));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** The producer's client metrics on /metrics; the binder refreshes them on a thread of its own, stopped with ingest. */
    @Context
    @Bean(preDestroy = "close")
    KafkaClientMetrics producerMetrics(KafkaProducer<String, byte[]> producer, PrometheusMeterRegistry metrics) {
        KafkaClientMetrics m = new KafkaClientMetrics(producer);
        m.bindTo(metrics);
        return m;
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
            LOG.warn("cannot prefetch topic metadata: {}", e.toString());
        }
    }

    @Singleton
    RecentlyAccepted recent() {
        return new RecentlyAccepted(Duration.ofMinutes(2), 100_000);
    }

    @Singleton
    @Bean(preDestroy = "close")
    Submitter submitter(KafkaProducer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes,
                        RecentlyAccepted recent, PrometheusMeterRegistry metrics, TenantBudgets budgets) {
        warmUp(producer, catalog);
        return new Submitter(producer, catalog, serdes, recent, metrics, budgets);
    }

    @Singleton
    SubmitParser parser(IngestConfig config) {
        return new SubmitParser(config.maxMessages(), config.maxMetadata(), config.maxMessageChars());
    }

    @Singleton
    ChatRequestParser chatParser(SubmitParser parser) {
        return new ChatRequestParser(parser);
    }

    @Singleton
    KnownModels models(IngestConfig config) {
        return new KnownModels(config.models());
    }

    @Singleton
    RateLimiter limiter(IngestConfig config) {
        return new RateLimiter(config.limits().burst());
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
     * Follows {@code llm.config.tenants}, {@code llm.config.api-keys}, {@code llm.config.prices} and
     * {@code llm.budgets} into the tenant directory, the known models and the budgets, from the beginning
     * of the compacted topics, on every instance.
     */
    @Context
    @Bean(preDestroy = "close")
    CompactedTopicsReader configReader(KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                                       KafkaTenantDirectory tenants, TenantBudgets budgets, KnownModels models) {
        Map<String, Object> c = new HashMap<>(kafka.common("llmq-ingest-config"));
        // budgets are written in billing's transactions: never show an aborted one
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        String tenantsTopic = catalog.configTenants().name();
        String keysTopic = catalog.configApiKeys().name();
        String pricesTopic = catalog.configPrices().name();
        String budgetsTopic = catalog.budgets().name();
        CompactedTopicsReader reader = new CompactedTopicsReader("llmq-ingest-config-reader", consumer, Map.of(
                tenantsTopic, (topic, key, value) -> tenants.onTenant(key,
                        serdes.value(catalog.configTenants()).deserialize(topic, value)),
                keysTopic, (topic, key, value) -> tenants.onApiKey(key,
                        serdes.value(catalog.configApiKeys()).deserialize(topic, value)),
                pricesTopic, (topic, key, value) -> models.onPrice(key,
                        serdes.value(catalog.configPrices()).deserialize(topic, value)),
                budgetsTopic, (topic, key, value) -> budgets.onBudget(key,
                        serdes.value(catalog.budgets()).deserialize(topic, value))));
        tenants.readyWhen(reader::ready);
        return reader.start();
    }

    @Singleton
    Authenticator authenticator(KafkaTenantDirectory tenants) {
        return new Authenticator(tenants);
    }

    @Singleton
    QueueStats queueStats(IngestConfig config) {
        return new QueueStats(config.queuesWindow(), System::currentTimeMillis);
    }

    @Singleton
    Peers peers() {
        return new Peers(Duration.ofSeconds(5));
    }

    @Singleton
    RouterClient router(IngestConfig config) {
        return new RouterClient(config.routerAdminUrl(), Duration.ofSeconds(1));
    }

    /** The status view; its Streams app starts once the HTTP server is bound (see {@link IngestApi#start}). */
    @Singleton
    @Bean(preDestroy = "close")
    StatusService status(IngestConfig config, KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                         PrometheusMeterRegistry metrics, Peers peers, QueueStats stats) {
        try {
            Files.createDirectories(config.statusStateDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> props = StreamsSettings.build(kafka, config.statusApplicationId(), config.statusStateDir(),
                Duration.ofMillis(100), 1, "ingest-status", Map.of());
        // a status view tolerates replays (the fold is monotonic), so it runs at-least-once and
        // shows changes as soon as they are processed; it still reads only committed data (batches
        // and the router's events are written in transactions)
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
        StatusTopology.optimizations().forEach((k, v) -> props.put((String) k, v));
        props.putAll(config.streamsOverrides());
        return new StatusService(() -> StatusTopology.build(catalog, serdes, config.idempotencyWindow(), stats), props,
                metrics, peers, serdes, catalog, stats, config.idempotencyWindow());
    }

    @Singleton
    Intake intake(Submitter submitter, KnownModels models, TenantBudgets budgets, RateLimiter limiter,
                  RecentlyAccepted recent, StatusService status, IngestConfig config) {
        return new Intake(submitter, models, budgets, limiter, recent, status::idempotency, config.callbacks().enabled(),
                config.limits().defaultOutputTokens());
    }

    @Singleton
    Cancellations cancellations(StatusService status, RecentlyAccepted recent, KafkaProducer<String, byte[]> producer,
                                TopicCatalog catalog, TopicSerdes serdes, IngestConfig config) {
        return new Cancellations(status, recent, producer, catalog, serdes, config.cancelWait(), config.kafkaTimeout());
    }

    @Singleton
    ResultWaiters waiters(PrometheusMeterRegistry metrics) {
        ResultWaiters w = new ResultWaiters();
        metrics.gauge("llmq_ingest_waiting_connections", w, ResultWaiters::size);
        return w;
    }

    /** Follows results and events from their end for the connections waiting on a result. */
    @Context
    @Bean(preDestroy = "close")
    ResultsFollower resultsFollower(KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes, ResultWaiters waiters) {
        Map<String, Object> c = new HashMap<>(kafka.common("llmq-ingest-results"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        return new ResultsFollower(consumer, catalog, serdes, waiters).start();
    }

    @Singleton
    BatchParser batchParser(SubmitParser parser, IngestConfig config) {
        return new BatchParser(parser, config.batches().maxLines(), config.maxBody());
    }

    @Singleton
    @Bean(preDestroy = "close")
    BatchSubmitter batchSubmitter(KafkaConfig kafka, IngestConfig config, TopicCatalog catalog, TopicSerdes serdes,
                                  StatusService status, PrometheusMeterRegistry metrics) {
        return new BatchSubmitter(() -> {
            Map<String, Object> p = new HashMap<>(kafka.producer("llmq-ingest-batches"));
            HostInfo self = status.self();
            String id = config.batches().transactionalId() != null ? config.batches().transactionalId()
                    : "llmq-ingest-batches-" + (self == null ? "unstarted" : self.host() + "-" + self.port());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, config.kafkaTimeout().toMillis());
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(config.kafkaTimeout().toMillis(), 1000));
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(500, config.kafkaTimeout().toMillis() - 10));
            p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            return new KafkaProducer<String, byte[]>(p, new StringSerializer(), new ByteArraySerializer());
        }, catalog, serdes, metrics);
    }

    @Singleton
    Batches batches(BatchParser parser, Intake intake, TenantBudgets budgets, BatchSubmitter submitter, StatusService status) {
        return new Batches(parser, intake, budgets, submitter, status);
    }

    @Singleton
    AdminStore adminStore(Settings settings) {
        return new AdminStore(DbConfig.from(settings));
    }

    @Singleton
    AdminRequests adminRequests(Settings settings) {
        return new AdminRequests(TierPresets.from(settings));
    }

    /** Background work: callback delivery (when enabled) and expiry of the recently-accepted map. */
    @Context
    @Bean(preDestroy = "close")
    Background background(IngestConfig config, KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                          KafkaProducer<String, byte[]> producer, RecentlyAccepted recent, PrometheusMeterRegistry metrics) {
        CallbackDispatcher dispatcher = null;
        IngestConfig.Callbacks cb = config.callbacks();
        if (cb.enabled()) {
            Map<String, Object> c = new HashMap<>(kafka.consumer("llmq-ingest-callbacks", cb.groupId()));
            c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
            KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
            dispatcher = new CallbackDispatcher(consumer, producer, catalog, serdes, new CallbackSigner(cb.secret()),
                    new CallbackDispatcher.Settings(cb.maxAttempts(), cb.initialBackoff(), cb.maxBackoff(), cb.timeout(),
                            cb.maxInFlight()), metrics).start();
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "llmq-ingest-housekeeping");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> recent.expire(Instant.now()), 10, 10, TimeUnit.SECONDS);
        return new Background(dispatcher, timer);
    }

    /** Things that run beside the HTTP server and stop with it. */
    record Background(CallbackDispatcher dispatcher, ScheduledExecutorService timer) implements AutoCloseable {
        @Override
        public void close() {
            if (dispatcher != null) {
                dispatcher.close();
            }
            timer.shutdownNow();
        }
    }
}
