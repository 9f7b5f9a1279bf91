package llmq.ingest.batches;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import llmq.avro.Batch;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.SubmitRequest;
import llmq.ingest.submit.Submitter;
import llmq.ingest.tenants.Tenant;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch in one Kafka transaction: the {@code Batch} record on {@code llm.batches}, every
 * request on its {@code llm.requests.<level>} (keyed by its dedup key) and every ACCEPTED event on
 * {@code llm.events}. Readers see all of it or nothing (the router and the status view read
 * committed), so a batch is never half-submitted. If Kafka does not commit in time the client gets a
 * 503; the producer is then replaced, and the new one's {@code initTransactions} aborts whatever the
 * old one left open. Batches of one instance are written one after another.
 */
public final class BatchSubmitter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchSubmitter.class);

    /** A written batch. */
    public record Written(String id, int total, Instant createdAt, List<String> requestIds) {
    }

    /** One line to write: its level (checked) and request. */
    public record Item(Priority level, SubmitRequest request) {
    }

    private final Supplier<Producer<String, byte[]>> producers;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final Counter unavailable;
    private Producer<String, byte[]> producer;

    public BatchSubmitter(Supplier<Producer<String, byte[]>> producers, TopicCatalog catalog, TopicSerdes serdes,
                          MeterRegistry metrics) {
        this.producers = producers;
        this.catalog = catalog;
        this.serdes = serdes;
        this.unavailable = Counter.builder("llmq_ingest_batch_unavailable")
                .description("batches answered 503 because Kafka did not commit them in time").register(metrics);
    }

    public synchronized Written submit(Tenant tenant, List<Item> items, Map<String, String> metadata) {
        String batchId = "batch_" + UUID.randomUUID();
        Instant now = Instant.now();
        List<String> ids = new ArrayList<>(items.size());
        try {
            if (producer == null) {
                producer = producers.get();
                producer.initTransactions();
            }
            producer.beginTransaction();
            Batch batch = Batch.newBuilder().setId(batchId).setTenantId(tenant.id()).setTotal(items.size())
                    .setCreatedAt(now).setMetadata(metadata).build();
            send(catalog.batches().name(), batchId, serdes.value(Batch.class).serialize(catalog.batches().name(), batch));
            for (Item item : items) {
                String id = UUID.randomUUID().toString();
                LlmRequest r = Submitter.toAvro(id, tenant.id(), item.level(), item.request(), "batch", now);
                r.setBatchId(batchId);
                String topic = catalog.intake(item.level()).name();
                String key = r.getIdempotencyKey() == null ? id : Submitter.dedupKey(tenant.id(), r.getIdempotencyKey());
                send(topic, key, serdes.value(LlmRequest.class).serialize(topic, r));
                RequestEvent accepted = Submitter.accepted(r, item.level(), now);
                send(catalog.events().name(), id, serdes.value(RequestEvent.class).serialize(catalog.events().name(), accepted));
                ids.add(id);
            }
            producer.commitTransaction();
            return new Written(batchId, items.size(), now, ids);
        } catch (RuntimeException e) {
            LOG.warn("batch {} of {} not committed: {}", batchId, tenant.id(), e.toString());
            discard();
            unavailable.increment();
            throw new ApiException(503, "unavailable", null, "the queue is temporarily unavailable; the batch was not "
                    + "submitted; retry later", 1);
        }
    }

    private void send(String topic, String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key, value));
    }

    private void discard() {
        Producer<String, byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(Duration.ZERO);
            } catch (RuntimeException ignored) {
                // a broken producer; its open transaction is aborted by the next one's initTransactions
            }
        }
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }
}
