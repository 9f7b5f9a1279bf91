package llmq.billing;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import llmq.avro.BillingRecord;
import llmq.billing.prices.PriceTablePoller;
import llmq.billing.sink.BillingSink;
import llmq.billing.topology.BillingTopology;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.http.AdminServer;
import llmq.common.http.HealthCheck;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.StreamsApp;
import llmq.topics.streams.StreamsSettings;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * billing-stream as a running service: the pricing topology (exactly-once), the PostgreSQL
 * sink, the price-table feed and the admin endpoint.
 */
public final class BillingService implements AutoCloseable {

    private final StreamsApp app;
    private final BillingSink sink;
    private final Thread sinkThread;
    private final PriceTablePoller prices;
    private final KafkaProducer<String, byte[]> producer;
    private final AdminServer admin;

    private BillingService(StreamsApp app, BillingSink sink, Thread sinkThread, PriceTablePoller prices,
                           KafkaProducer<String, byte[]> producer, AdminServer admin) {
        this.app = app;
        this.sink = sink;
        this.sinkThread = sinkThread;
        this.prices = prices;
        this.producer = producer;
        this.admin = admin;
    }

    public static BillingService start(Settings settings) throws Exception {
        BillingConfig config = BillingConfig.from(settings);
        KafkaConfig kafka = KafkaConfig.from(settings);
        DbConfig db = DbConfig.from(settings);
        TopicCatalog catalog = TopicCatalog.from(settings);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Files.createDirectories(config.stateDir());

        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("llmq-billing-prices"),
                new StringSerializer(), new ByteArraySerializer());
        PriceTablePoller prices = new PriceTablePoller(db, producer, catalog.configPrices(), serdes);
        prices.poll();
        prices.start(config.pricesPollInterval().toMillis());

        StreamsApp app = StreamsApp.start("billing-stream",
                BillingTopology.build(config.dedupWindow(), catalog, serdes),
                StreamsSettings.build(kafka, config.applicationId(), config.stateDir(), config.commitInterval(),
                        config.threads(), "billing", config.streamsOverrides()), metrics);

        Map<String, Object> c = new HashMap<>(kafka.consumer("llmq-billing-sink", config.sinkGroupId()));
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.sinkBatchSize());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        BillingSink sink = new BillingSink(consumer, catalog.billing().name(), serdes.value(BillingRecord.class), db, metrics);
        Thread sinkThread = new Thread(sink, "llmq-billing-sink");
        sinkThread.start();

        AdminServer admin = AdminServer.start("billing-stream", config.adminHost(), config.adminPort(), metrics)
                .check("streams", app.health())
                .check("postgres-sink", () -> sink.fatal() != null
                        ? HealthCheck.Status.down("sink stopped: " + sink.fatal())
                        : sink.databaseUp() ? HealthCheck.Status.up("writing")
                        : HealthCheck.Status.down("PostgreSQL unreachable; retrying"));
        return new BillingService(app, sink, sinkThread, prices, producer, admin);
    }

    public StreamsApp app() {
        return app;
    }

    /** The bound port of the admin endpoint ({@code /health}, {@code /metrics}). */
    public int adminPort() {
        return admin.port();
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-billing-stream", args, BillingService::start);
    }

    @Override
    public void close() throws InterruptedException {
        admin.close();
        prices.close();
        app.close();
        sink.stop();
        sinkThread.join(5_000);
        producer.close(Duration.ofSeconds(5));
    }
}
