package llmq.worker;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.common.config.Settings;
import llmq.common.http.AdminServer;
import llmq.common.http.HealthCheck;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.worker.consume.WorkerLoop;
import llmq.worker.model.HttpChatCompletions;
import llmq.worker.outcome.Outcomes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A worker process: one consumer loop over the four queue topics, the model client, the
 * outcome producer and the admin endpoint. Scale out by starting more workers in the same
 * group.
 */
public final class WorkerService implements AutoCloseable {

    private final WorkerLoop loop;
    private final Thread thread;
    private final KafkaProducer<String, byte[]> producer;
    private final AdminServer admin;

    private WorkerService(WorkerLoop loop, Thread thread, KafkaProducer<String, byte[]> producer, AdminServer admin) {
        this.loop = loop;
        this.thread = thread;
        this.producer = producer;
        this.admin = admin;
    }

    public static WorkerService start(Settings settings) throws Exception {
        WorkerConfig config = WorkerConfig.from(settings);
        KafkaConfig kafka = KafkaConfig.from(settings);
        TopicCatalog catalog = TopicCatalog.from(settings);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("llmq-worker-" + config.workerId()),
                new StringSerializer(), new ByteArraySerializer());
        Map<String, Object> c = new HashMap<>(kafka.consumer("llmq-worker-" + config.workerId(), config.groupId()));
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(500, config.maxInFlight()));
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        new KafkaClientMetrics(producer).bindTo(metrics);
        new KafkaClientMetrics(consumer).bindTo(metrics);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpChatCompletions model = new HttpChatCompletions(config.endpointName(), config.endpointUrl(),
                config.endpointApiKey(), config.endpointTimeout(), http);
        List<String> topics = new ArrayList<>();
        for (Priority p : Priority.values()) {
            topics.add(catalog.queue(p).name());
        }
        WorkerLoop loop = new WorkerLoop(consumer, topics, serdes.value(QueuedRequest.class), model,
                new Outcomes(producer, catalog, serdes, config.workerId()), config.maxInFlight(),
                config.shutdownGrace(), metrics);
        Thread thread = new Thread(loop, "llmq-worker-loop");
        thread.start();
        AdminServer admin = AdminServer.start("worker", config.adminHost(), config.adminPort(), metrics)
                .check("consumer", () -> loop.fatal() == null
                        ? HealthCheck.Status.up(loop.inFlight() + " in flight")
                        : HealthCheck.Status.down(loop.fatal().toString()));
        return new WorkerService(loop, thread, producer, admin);
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-worker", args, WorkerService::start);
    }

    @Override
    public void close() throws InterruptedException {
        loop.stop();
        thread.join(5_000);
        producer.close(Duration.ofSeconds(10));
        admin.close();
    }
}
