package llmq.billing;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import llmq.avro.BillingRecord;
import llmq.billing.cdc.CdcConfig;
import llmq.billing.cdc.CdcEngine;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.metrics.MicrometerBillingMetrics;
import llmq.billing.query.UsageQueryService;
import llmq.billing.sink.BillingSink;
import llmq.billing.topology.BillingTopology;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.db.Migrations;
import llmq.common.http.AdminServer;
import llmq.common.http.HealthCheck;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.StreamsApp;
import llmq.topics.streams.StreamsSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * billing-stream as a running service: the change data capture of the config tables (Debezium),
 * the pricing and aggregation topology (exactly-once), the PostgreSQL sink, and the admin endpoint
 * with health, metrics and the usage queries.
 *
 * <p>Start order matters: CDC first, and start waits (up to {@code billing.cdc.start-timeout}) until
 * the config topics hold the current tables, so that the topology's global price store and
 * ingest's tenant directory, started after, see them.
 */
public final class BillingService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BillingService.class);

    private final Deque<AutoCloseable> parts;
    private final StreamsApp app;
    private final CdcEngine cdc;
    private final AdminServer admin;

    private BillingService(Deque<AutoCloseable> parts, StreamsApp app, CdcEngine cdc, AdminServer admin) {
        this.parts = parts;
        this.app = app;
        this.cdc = cdc;
        this.admin = admin;
    }

    public static BillingService start(Settings settings) throws Exception {
        BillingConfig config = BillingConfig.from(settings);
        KafkaConfig kafka = KafkaConfig.from(settings);
        DbConfig db = DbConfig.from(settings);
        CdcConfig cdcConfig = CdcConfig.from(settings, db);
        TopicCatalog catalog = TopicCatalog.from(settings);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Files.createDirectories(config.stateDir());
        Deque<AutoCloseable> parts = new ArrayDeque<>();
        try {
            AdminServer admin = AdminServer.start("billing-stream", config.adminHost(), config.adminPort(), metrics);
            parts.push(admin);
            try (Admin a = Admin.create(kafka.common("llmq-billing-admin"))) {
                BillingTopics.ensureAggregates(a, config.aggregatesTopic(), catalog);
            }

            // the schema first: the sink writes its tables and the engine reads the publication a migration creates
            Migrations.atStart(db, "billing-stream");

            CdcEngine cdc = null;
            if (cdcConfig.enabled()) {
                cdc = CdcEngine.start(cdcConfig, kafka, catalog, serdes, db, metrics);
                parts.push(cdc);
                admin.check("cdc", cdc.health());
                if (!cdc.awaitLive(cdcConfig.startTimeout())) {
                    LOG.error("change data capture not live after {}; starting without it (health DOWN until it is)",
                            cdcConfig.startTimeout());
                }
            }

            Map<String, Object> props = StreamsSettings.build(kafka, config.applicationId(), config.stateDir(),
                    config.commitInterval(), config.threads(), "billing", Map.of());
            HostInfo self = new HostInfo(config.advertisedHost(), admin.port());
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
            props.putAll(config.streamsOverrides());
            StreamsApp app = StreamsApp.start("billing-stream",
                    BillingTopology.build(config.topology(), catalog, serdes, new MicrometerBillingMetrics(metrics)),
                    props, metrics);
            parts.push(app);
            UsageQueryService queries = new UsageQueryService(app.streams(), self);
            admin.route("/v1/usage/month-to-date", ex -> answer(ex, queries::monthToDate))
                    .route("/v1/usage", ex -> answer(ex, queries::usage))
                    .check("streams", app.health());

            Map<String, Object> c = new HashMap<>(kafka.consumer("llmq-billing-sink", config.sinkGroupId()));
            c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.sinkBatchSize());
            KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                    new ByteArrayDeserializer());
            KafkaClientMetrics consumerMetrics = new KafkaClientMetrics(consumer);
            consumerMetrics.bindTo(metrics);
            BillingSink sink = new BillingSink(consumer, catalog.billing().name(), config.aggregatesTopic(),
                    serdes.value(BillingRecord.class), serdes.value(UsageAggregate.class), db, metrics);
            Thread sinkThread = new Thread(sink, "llmq-billing-sink");
            sinkThread.start();
            parts.push(() -> {
                sink.stop();
                sinkThread.join(5_000);
                consumerMetrics.close();
            });
            admin.check("postgres-sink", () -> sink.fatal() != null
                    ? HealthCheck.Status.down("sink stopped: " + sink.fatal())
                    : sink.databaseUp() ? HealthCheck.Status.up("writing")
                    : HealthCheck.Status.down("PostgreSQL unreachable; retrying"));
            return new BillingService(parts, app, cdc, admin);
        } catch (Exception | Error e) {
            closeAll(parts);
            throw e;
        }
    }

    private static void answer(HttpExchange ex, BiFunction<Map<String, String>, Boolean, UsageQueryService.Answer> query)
            throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            AdminServer.respond(ex, 405, "application/json",
                    "{\"error\":{\"type\":\"method_not_allowed\",\"message\":\"use GET\"}}");
            return;
        }
        UsageQueryService.Answer a = query.apply(UsageQueryService.params(ex.getRequestURI().getRawQuery()),
                ex.getRequestHeaders().containsKey(UsageQueryService.FORWARDED));
        if (a.status() == 503) {
            ex.getResponseHeaders().set("Retry-After", "1");
        }
        AdminServer.respond(ex, a.status(), "application/json", a.body());
    }

    public StreamsApp app() {
        return app;
    }

    /** The change data capture engine, or null when {@code billing.cdc.enabled=false}. */
    public CdcEngine cdc() {
        return cdc;
    }

    /** The bound port of the admin endpoint ({@code /health}, {@code /metrics}, {@code /v1/usage}). */
    public int adminPort() {
        return admin.port();
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-billing-stream", args, BillingService::start);
    }

    private static void closeAll(Deque<AutoCloseable> parts) {
        while (!parts.isEmpty()) {
            AutoCloseable p = parts.pop();
            try {
                p.close();
            } catch (Exception e) {
                LOG.warn("{} did not stop cleanly: {}", p.getClass().getSimpleName(), e.toString());
            }
        }
    }

    @Override
    public void close() {
        closeAll(parts);
    }
}
