package llmq.billing.cdc;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import llmq.avro.DeadLetter;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Debezium engine's handler: publishes each change of {@code model_prices}, {@code tenants}
 * and {@code api_keys} to its compacted topic ({@code llm.config.prices}, {@code .tenants},
 * {@code .api-keys}), keyed by row id, a delete as a tombstone.
 *
 * <p>It never throws and never loses a change. A batch is marked processed (so its offsets may be
 * committed) only after Kafka acknowledged every record of it; if Kafka refuses, the batch is sent
 * again, from the first unacknowledged record on, with backoff, until it is taken or the engine
 * stops (then nothing of the batch is marked, and it is streamed again after the restart). A
 * change that cannot be mapped (a programming or schema error) is not dropped silently: it goes to
 * {@code llm.dlq} with its raw form and reason, and the stream goes on. Heartbeat changes are
 * reported to the {@link CdcWatermark} once everything before them is acknowledged.
 */
public final class ConfigChangePublisher implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigChangePublisher.class);
    static final String STAGE = "billing-cdc";

    /** One record to produce (topic null: nothing to produce), and the heartbeat token it carried. */
    record Outgoing(String topic, String key, SpecificRecord value, String token) {
        static final Outgoing NOTHING = new Outgoing(null, null, null, null);
    }

    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final CdcWatermark watermark;
    private final BooleanSupplier running;
    private final MeterRegistry metrics;
    private final Counter snapshotRecords;
    private final Counter publishErrors;
    private final Counter unmappable;

    public ConfigChangePublisher(Producer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes,
                                 CdcWatermark watermark, BooleanSupplier running, MeterRegistry metrics) {
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.watermark = watermark;
        this.running = running;
        this.metrics = metrics;
        this.snapshotRecords = Counter.builder("llmq_billing_cdc_snapshot_records")
                .description("rows published from an initial snapshot (0 after a restart that resumed)").register(metrics);
        this.publishErrors = Counter.builder("llmq_billing_cdc_publish_errors")
                .description("attempts to publish a change batch that Kafka did not acknowledge (retried)").register(metrics);
        this.unmappable = Counter.builder("llmq_billing_cdc_unmappable")
                .description("change events that could not be mapped, dead-lettered").register(metrics);
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<Outgoing> out = new ArrayList<>(records.size());
        for (RecordChangeEvent<SourceRecord> r : records) {
            out.add(route(r.record()));
        }
        if (!deliver(out)) {
            LOG.info("engine stopping with {} change(s) not acknowledged by Kafka; they stream again after restart",
                    out.size());
            return;
        }
        for (RecordChangeEvent<SourceRecord> r : records) {
            committer.markProcessed(r);
        }
        committer.markBatchFinished();
        for (Outgoing o : out) {
            if (o.token() != null) {
                watermark.seen(o.token());
            }
        }
    }

    /** What to publish for one change event; never throws. */
    Outgoing route(SourceRecord record) {
        try {
            if (!(record.value() instanceof Struct value) || value.schema().field("op") == null) {
                return Outgoing.NOTHING; // heartbeats, tombstones, anything that is no row change
            }
            String op = value.getString("op");
            if (!"c".equals(op) && !"u".equals(op) && !"d".equals(op) && !"r".equals(op)) {
                return Outgoing.NOTHING; // truncate ("t") and logical messages ("m") are not row changes
            }
            Struct source = value.getStruct("source");
            String table = source.getString("table");
            Object snapshot = source.schema().field("snapshot") == null ? null : source.get("snapshot");
            boolean fromSnapshot = snapshot != null && !"false".equals(snapshot.toString());
            Struct after = value.getStruct("after");
            Struct image = after != null ? after : value.getStruct("before");
            Outgoing o = switch (table) {
                case "model_prices" -> new Outgoing(catalog.configPrices().name(), Long.toString(image.getInt64("id")),
                        after == null ? null : ConfigRows.price(after), null);
                case "tenants" -> new Outgoing(catalog.configTenants().name(), image.getString("id"),
                        after == null ? null : ConfigRows.tenant(after), null);
                case "api_keys" -> new Outgoing(catalog.configApiKeys().name(), image.getString("id"),
                        after == null ? null : ConfigRows.apiKey(after), null);
                case "cdc_heartbeat" -> new Outgoing(null, null, null,
                        after != null && !fromSnapshot ? after.getString("token") : null);
                default -> {
                    LOG.warn("change of table {} is not routed anywhere; is the publication wider than the config tables?",
                            table);
                    yield Outgoing.NOTHING;
                }
            };
            if (o.topic() != null) {
                metrics.counter("llmq_billing_cdc_records", "table", table).increment();
                if (fromSnapshot) {
                    snapshotRecords.increment();
                }
            }
            return o;
        } catch (RuntimeException e) {
            unmappable.increment();
            LOG.error("cannot map change event from {} ({}); dead-lettering it", record.topic(), e.toString());
            DeadLetter dl = DeadLetter.newBuilder()
                    .setStage(STAGE)
                    .setSourceTopic(record.topic())
                    .setSourcePartition(-1)
                    .setSourceOffset(-1)
                    .setPayload(ByteBuffer.wrap(String.valueOf(record.value()).getBytes(StandardCharsets.UTF_8)))
                    .setErrorClass("cdc_unmappable")
                    .setErrorMessage(e.toString())
                    .setAt(Instant.now())
                    .build();
            return new Outgoing(catalog.dlq().name(), null, dl, null);
        }
    }

    /**
     * Sends every record and waits for all acknowledgements; on a failure, sends again from the
     * first unacknowledged record, with backoff. False if the engine stopped first.
     */
    boolean deliver(List<Outgoing> out) throws InterruptedException {
        int from = 0;
        long backoff = 100;
        boolean failed = false;
        while (true) {
            if (!running.getAsBoolean()) {
                return false;
            }
            int failedAt = -1;
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            List<Integer> indexes = new ArrayList<>();
            String error = null;
            int i = from;
            try {
                for (; i < out.size(); i++) {
                    Outgoing o = out.get(i);
                    if (o.topic() == null) {
                        continue;
                    }
                    byte[] bytes = o.value() == null ? null : encode(o.topic(), o.value());
                    futures.add(producer.send(new ProducerRecord<>(o.topic(), o.key(), bytes)));
                    indexes.add(i);
                }
            } catch (RuntimeException e) {
                // the registry or the producer refused before sending: retry from this record
                failedAt = i;
                error = e.toString();
            }
            for (int k = 0; k < futures.size(); k++) {
                String why = await(futures.get(k));
                if (why == null) {
                    return false;
                }
                if (!why.isEmpty()) {
                    failedAt = indexes.get(k);
                    error = why;
                    break;
                }
            }
            if (failedAt < 0) {
                if (failed) {
                    LOG.info("Kafka acknowledged the change batch; CDC publishing again");
                }
                return true;
            }
            publishErrors.increment();
            if (!failed) {
                LOG.warn("Kafka did not acknowledge config changes ({}); retrying with backoff", error);
            }
            failed = true;
            from = failedAt;
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 5_000);
        }
    }

    /** "" when acknowledged, the reason when it failed, null when the engine stopped while waiting. */
    private String await(Future<RecordMetadata> f) throws InterruptedException {
        while (true) {
            try {
                f.get(1, TimeUnit.SECONDS);
                return "";
            } catch (ExecutionException e) {
                return String.valueOf(e.getCause());
            } catch (TimeoutException e) {
                if (!running.getAsBoolean()) {
                    return null;
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private <V extends SpecificRecord> byte[] encode(String topic, V value) {
        return serdes.value((Class<V>) value.getClass()).serialize(topic, value);
    }
}
