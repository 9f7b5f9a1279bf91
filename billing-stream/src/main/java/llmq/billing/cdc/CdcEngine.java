package llmq.billing.cdc;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import llmq.common.db.DbConfig;
import llmq.common.http.HealthCheck;
import llmq.common.kafka.KafkaConfig;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Debezium engine (embedded, asynchronous, PostgreSQL connector over {@code pgoutput}) that
 * streams the config tables into {@code llm.config.*}, supervised: if the engine stops on its own
 * (PostgreSQL unreachable beyond the connector's retries, a slot held by another instance), it is
 * started again with backoff, resuming from its offsets.
 *
 * <p>Offsets live in a compacted Kafka topic ({@code billing.cdc.offsets-topic}) under the engine
 * name, so a restart resumes the stream where it stopped instead of taking a new snapshot. The
 * publication is never created by the engine ({@code publication.autocreate.mode=disabled}); the
 * replication slot is kept on stop (dropping it would lose changes made while stopped).
 */
public final class CdcEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CdcEngine.class);
    /** Debezium's topic prefix; llmq routes by table, so it only names Debezium's own metrics. */
    static final String TOPIC_PREFIX = "llmq";

    private final CdcConfig config;
    private final Properties properties;
    private final KafkaProducer<String, byte[]> producer;
    private final CdcWatermark watermark;
    private final ConfigChangePublisher publisher;
    private final Thread supervisor;
    private volatile boolean running = true;
    private volatile boolean polling;
    private volatile String lastError;
    private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;

    private CdcEngine(CdcConfig config, KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes, DbConfig db,
                      MeterRegistry metrics) {
        this.config = config;
        this.properties = properties(config, kafka, catalog);
        Map<String, Object> p = new HashMap<>(kafka.producer("llmq-billing-cdc"));
        // short enough that a stopping engine is not held for minutes by an unreachable broker
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.watermark = new CdcWatermark(db, config.heartbeatInterval(), metrics);
        this.publisher = new ConfigChangePublisher(producer, catalog, serdes, watermark, () -> running, metrics);
        this.supervisor = new Thread(this::supervise, "llmq-billing-cdc");
        Gauge.builder("llmq_billing_cdc_up", () -> polling && watermark.live() ? 1 : 0)
                .description("1 while the change stream is polling and live").register(metrics);
    }

    /** Starts the engine and the heartbeat; returns at once (see {@link #awaitLive}). */
    public static CdcEngine start(CdcConfig config, KafkaConfig kafka, TopicCatalog catalog, TopicSerdes serdes,
                                  DbConfig db, MeterRegistry metrics) {
        CdcEngine e = new CdcEngine(config, kafka, catalog, serdes, db, metrics);
        LOG.info("starting change data capture: {}", config);
        e.supervisor.start();
        e.watermark.start();
        return e;
    }

    /** The engine's properties (connector, offsets in Kafka, slot, publication, mapping options). */
    static Properties properties(CdcConfig c, KafkaConfig kafka, TopicCatalog catalog) {
        Properties p = new Properties();
        p.setProperty("name", c.name());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", OffsetStore.class.getName());
        p.setProperty("offset.storage.topic", c.offsetsTopic());
        p.setProperty("offset.storage.partitions", "1");
        p.setProperty("offset.storage.replication.factor", Short.toString(catalog.replicationFactor()));
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("offset.flush.timeout.ms", "10000");
        p.setProperty("bootstrap.servers", kafka.bootstrapServers());
        kafka.clientOverrides().forEach(p::setProperty);
        p.setProperty("database.hostname", c.host());
        p.setProperty("database.port", Integer.toString(c.port()));
        p.setProperty("database.dbname", c.database());
        p.setProperty("database.user", c.user());
        if (!c.password().isEmpty()) {
            p.setProperty("database.password", c.password());
        }
        p.setProperty("topic.prefix", TOPIC_PREFIX);
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", c.slot());
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("publication.name", c.publication());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", "public.model_prices,public.tenants,public.api_keys,public.cdc_heartbeat");
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("poll.interval.ms", "50");
        p.setProperty("heartbeat.interval.ms", Long.toString(c.heartbeatInterval().toMillis()));
        p.setProperty("errors.max.retries", "-1");
        p.setProperty("errors.retry.delay.initial.ms", "500");
        p.setProperty("errors.retry.delay.max.ms", "10000");
        c.debeziumOverrides().forEach(p::setProperty);
        return p;
    }

    private void supervise() {
        long backoff = 1_000;
        while (running) {
            DebeziumEngine<RecordChangeEvent<SourceRecord>> e;
            try {
                e = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                        .using(properties)
                        .notifying(publisher)
                        .using(new DebeziumEngine.ConnectorCallback() {
                            @Override
                            public void pollingStarted() {
                                polling = true;
                                lastError = null;
                            }

                            @Override
                            public void pollingStopped() {
                                polling = false;
                            }
                        })
                        .using((success, message, error) -> {
                            polling = false;
                            if (!success && running) {
                                lastError = message + (error == null ? "" : ": " + error);
                                LOG.error("change data capture stopped: {}", lastError, error);
                            }
                        })
                        .build();
            } catch (RuntimeException ex) {
                lastError = ex.toString();
                LOG.error("cannot build the Debezium engine", ex);
                return;
            }
            engine = e;
            if (!running) {
                break; // closed while building: close() may not have seen this engine
            }
            long started = System.nanoTime();
            e.run();
            engine = null;
            if (!running) {
                break;
            }
            if (System.nanoTime() - started > Duration.ofMinutes(1).toNanos()) {
                backoff = 1_000;
            }
            LOG.warn("change data capture ended unexpectedly; restarting in {} ms", backoff);
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
            backoff = Math.min(backoff * 2, 30_000);
        }
    }

    /** Waits until the initial snapshot (or the resumed stream) is published; false on timeout. */
    public boolean awaitLive(Duration timeout) throws InterruptedException {
        return watermark.awaitLive(timeout);
    }

    /** UP while the engine polls and heartbeats come through. */
    public HealthCheck health() {
        return () -> {
            if (!watermark.live()) {
                return HealthCheck.Status.down("change stream not live yet" + (lastError == null ? "" : ": " + lastError));
            }
            if (!polling) {
                return HealthCheck.Status.down("engine not polling" + (lastError == null ? "" : ": " + lastError));
            }
            Duration lag = watermark.lag();
            long age = System.currentTimeMillis() - watermark.lastSeenMillis();
            if (age > Math.max(3 * config.heartbeatInterval().toMillis(), 30_000)) {
                return HealthCheck.Status.down("no heartbeat through the stream for " + age + " ms");
            }
            return HealthCheck.Status.up("streaming; heartbeat lag " + (lag == null ? "?" : lag.toMillis() + " ms"));
        };
    }

    /** The heartbeat round trip, for tests and benchmarks. */
    public CdcWatermark watermark() {
        return watermark;
    }

    @Override
    public void close() {
        running = false;
        watermark.close();
        DebeziumEngine<RecordChangeEvent<SourceRecord>> e = engine;
        if (e != null) {
            try {
                e.close();
            } catch (IOException ex) {
                LOG.warn("Debezium engine did not close cleanly", ex);
            }
        }
        try {
            supervisor.join(30_000);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
