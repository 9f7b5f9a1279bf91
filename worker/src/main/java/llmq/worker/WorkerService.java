package llmq.worker;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.common.config.Settings;
import llmq.common.http.AdminServer;
import llmq.common.http.HealthCheck;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.JvmDefaults;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.catalog.TopicSpec;
import org.apache.avro.specific.SpecificData;
import llmq.worker.consume.WorkerLoop;
import llmq.worker.endpoints.EndpointPool;
import llmq.worker.endpoints.HealthProber;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.HttpChatCompletions;
import llmq.worker.outcome.OutcomeTransaction;
import llmq.worker.outcome.Outcomes;
import llmq.worker.retry.RetryPolicy;
import llmq.worker.run.Dispatcher;
import llmq.worker.run.Pending;
import llmq.worker.schedule.FairQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A worker process: one consumer loop over the four queue topics, the weighted-fair dispatcher,
 * the endpoint pool with its health probes, the outcome producer and the admin endpoint. Scale
 * out by starting more workers in the same group.
 */
public final class WorkerService implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkerService.class);
    static {
        // the JDK HTTP client completes calls on the common pool: see JvmDefaults
        JvmDefaults.apply();
    }

    private final WorkerConfig config;
    private final WorkerLoop loop;
    private final Thread thread;
    private final KafkaProducer<String, byte[]> producer;
    private final AdminServer admin;
    private final EndpointPool pool;
    private final HealthProber prober;
    private final Dispatcher dispatcher;
    private final WorkerMetrics metrics;
    private final PrometheusMeterRegistry registry;
    private final List<KafkaClientMetrics> clientMetrics;

    private WorkerService(WorkerConfig config, WorkerLoop loop, Thread thread, KafkaProducer<String, byte[]> producer,
                          AdminServer admin, EndpointPool pool, HealthProber prober, Dispatcher dispatcher,
                          WorkerMetrics metrics, PrometheusMeterRegistry registry, List<KafkaClientMetrics> clientMetrics) {
        this.config = config;
        this.loop = loop;
        this.thread = thread;
        this.producer = producer;
        this.admin = admin;
        this.pool = pool;
        this.prober = prober;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        this.registry = registry;
        this.clientMetrics = clientMetrics;
    }

    public static WorkerService start(Settings settings) throws Exception {
        WorkerConfig config = WorkerConfig.from(settings);
        if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
            LOG.warn("the common fork-join pool has a parallelism of {}: the JDK HTTP client will start a thread per "
                    + "model call; start the JVM with -Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
                    java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
        }
        KafkaConfig kafka = KafkaConfig.from(settings);
        TopicCatalog catalog = TopicCatalog.from(settings);
        HttpSchemaRegistryClient registrations = new HttpSchemaRegistryClient(kafka.registryUrl());
        TopicSerdes serdes = new TopicSerdes(registrations);
        // registered now, so that publishing an outcome never waits for (or fails on) the registry later
        for (TopicSpec<?> t : List.of(catalog.events(), catalog.results(), catalog.usage(), catalog.dlq())) {
            registrations.register(serdes.value(t).subject(t.name()), SpecificData.get().getSchema(t.valueType()));
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WorkerMetrics metrics = new WorkerMetrics(registry);
        Clock clock = Clock.systemUTC();

        // distinct client ids: the Kafka client meters of the two clients would otherwise collide
        // outcomes and the offsets they finish are committed in one transaction (OutcomeTransaction); the id is
        // stable across restarts of the same worker, so a restarted worker aborts what its predecessor left open
        Map<String, Object> pc = new HashMap<>(kafka.producer("llmq-worker-" + config.workerId() + "-producer"));
        pc.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        pc.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) config.transactionTimeout().toMillis());
        pc.putAll(kafka.clientOverrides());
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer());
        OutcomeTransaction transaction = new OutcomeTransaction(producer);
        Map<String, Object> c = new HashMap<>(kafka.consumer("llmq-worker-" + config.workerId() + "-consumer",
                config.groupId()));
        // one poll adds at most this many records on top of a full level: the look-ahead stays bounded
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(500, config.bufferPerLevel()));
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
        c.putAll(kafka.clientOverrides());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        // each binder has a thread of its own that refreshes the clients' metrics: closed with the service
        List<KafkaClientMetrics> clientMetrics = List.of(new KafkaClientMetrics(producer), new KafkaClientMetrics(consumer));
        clientMetrics.forEach(m -> m.bindTo(registry));

        // plain-HTTP endpoints get HTTP/1.1 (no h2c upgrade dance); TLS endpoints negotiate HTTP/2 by ALPN
        HttpClient http1 = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1).build();
        HttpClient http2 = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        java.util.function.Function<String, HttpClient> clientFor = url -> url.startsWith("https://") ? http2 : http1;
        EndpointPool pool = new EndpointPool(config.pool(), e -> new HttpChatCompletions(e.name(), e.url(), e.apiKey(),
                e.timeout(), e.stream(), clientFor.apply(e.url()), clock), metrics);
        HealthProber prober = HealthProber.start(pool, clientFor);

        Outcomes outcomes = new Outcomes(transaction, catalog, serdes, config.workerId());
        Dispatcher dispatcher = new Dispatcher(new FairQueue<Pending>(config.weights(), config.bufferPerLevel()),
                config.maxInFlight(), pool, outcomes, new RetryPolicy(config.retry()), metrics, clock);
        Map<String, Priority> levels = new LinkedHashMap<>();
        for (Priority p : Priority.values()) {
            levels.put(catalog.queue(p).name(), p);
        }
        WorkerLoop loop = new WorkerLoop(consumer, levels, serdes.value(QueuedRequest.class), dispatcher, outcomes,
                transaction, new WorkerLoop.Options(config.shutdownGrace(), config.commitInterval(), config.commitMetadataMaxChars(),
                        config.registryBackoffMax()), metrics);
        Thread thread = new Thread(loop, "llmq-worker-loop");
        thread.start();
        AdminServer admin = AdminServer.start("worker", config.adminHost(), config.adminPort(), registry)
                .check("consumer", () -> loop.fatal() == null
                        ? HealthCheck.Status.up(dispatcher.inFlight() + " in flight")
                        : HealthCheck.Status.down(loop.fatal().toString()))
                // endpoint trouble is reported, not fatal: restarting the worker would not mend an endpoint
                .check("endpoints", () -> HealthCheck.Status.up(endpointSummary(pool)));
        return new WorkerService(config, loop, thread, producer, admin, pool, prober, dispatcher, metrics, registry,
                clientMetrics);
    }

    private static String endpointSummary(EndpointPool pool) {
        StringBuilder b = new StringBuilder();
        for (String name : pool.endpointNames()) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(name).append(": circuit ").append(pool.circuitState(name))
                    .append(pool.healthy(name) ? ", probe ok" : ", probe failing")
                    .append(", ").append(pool.outstanding(name)).append(" in flight");
        }
        return b.toString();
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-worker", args, WorkerService::start);
    }

    public WorkerConfig config() {
        return config;
    }

    /** The endpoint pool (circuit states, in-flight counts). */
    public EndpointPool pool() {
        return pool;
    }

    /** Model calls in flight. */
    public int inFlight() {
        return dispatcher.inFlight();
    }

    /** The meters served on {@code /metrics}. */
    public WorkerMetrics metrics() {
        return metrics;
    }

    /** The bound admin port (useful with port 0). */
    public int adminPort() {
        return admin.port();
    }

    /** Stops taking work, lets in-flight calls finish within the grace period, commits and stops. */
    @Override
    public void close() throws InterruptedException {
        loop.stop();
        thread.join(5_000);
        prober.close();
        producer.close(Duration.ofSeconds(10));
        clientMetrics.forEach(KafkaClientMetrics::close);
        admin.close();
        registry.close();
    }
}
