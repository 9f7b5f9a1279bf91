package llmq.billing.topology;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import llmq.avro.BillingRecord;
import llmq.avro.DeadLetter;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.billing.pricing.PriceIndex;
import llmq.billing.pricing.Pricing;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bills each request id once, at the price in effect when its call finished.
 *
 * <p>Dedup: the request ids billed within the dedup window live in a window store keyed by
 * request id and timed by the usage time; an id found within ± the window of the new usage's
 * time is a duplicate (a worker re-ran a finished call after a crash, or the topic was replayed)
 * and is dropped. Old ids expire with the store's segments, so nothing has to scan the store.
 * Usage older than the window (by stream time) can no longer be checked: it is dead-lettered
 * instead of risking a second bill.
 *
 * <p>Pricing: the global price index gives the row with the latest {@code effective_from} not
 * after the usage time; a model with no such row is billed at zero and flagged {@code unpriced},
 * never dropped. The billing record goes to {@code llm.billing} and to the aggregators.
 */
final class UsagePricer implements Processor<String, UsageEvent, String, SpecificRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(UsagePricer.class);

    private final long window;
    private final String usageTopic;
    private final Serializer<UsageEvent> usageSerializer;
    private final BillingMetrics metrics;
    private ProcessorContext<String, SpecificRecord> context;
    private WindowStore<String, Long> billed;
    private KeyValueStore<String, ModelPrice> prices;

    UsagePricer(Duration window, String usageTopic, Serializer<UsageEvent> usageSerializer, BillingMetrics metrics) {
        this.window = window.toMillis();
        this.usageTopic = usageTopic;
        this.usageSerializer = usageSerializer;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.billed = context.getStateStore(BillingTopology.DEDUP_STORE);
        this.prices = context.getStateStore(BillingTopology.PRICES_STORE);
    }

    @Override
    public void process(Record<String, UsageEvent> record) {
        UsageEvent u = record.value();
        if (u == null) {
            return; // a tombstone on llm.usage carries no usage
        }
        metrics.usageReceived();
        long at = u.getAt().toEpochMilli();
        if (at < context.currentStreamTimeMs() - window) {
            deadLetter(record, u);
            return;
        }
        if (seen(u.getRequestId(), at)) {
            metrics.dedupHit();
            LOG.debug("usage of {} already billed; dropping the duplicate", u.getRequestId());
            return;
        }
        long now = context.currentSystemTimeMs();
        billed.put(u.getRequestId(), now, at);
        BillingRecord b = Pricing.price(u, PriceIndex.effective(prices, u.getModel(), u.getAt()), Instant.ofEpochMilli(now));
        metrics.billed(b);
        if (b.getUnpriced()) {
            metrics.unpriced(u.getModel());
            LOG.warn("no price for model {} at {}: request {} billed at zero and flagged unpriced", u.getModel(),
                    u.getAt(), u.getRequestId());
        }
        Record<String, SpecificRecord> out = new Record<>(u.getTenantId(), b, at);
        context.forward(out, BillingTopology.BILLING_SINK);
        context.forward(out, BillingTopology.AGGREGATOR);
        context.forward(out, BillingTopology.MONTH_TO_DATE);
    }

    private boolean seen(String requestId, long at) {
        try (WindowStoreIterator<Long> it = billed.fetch(requestId, Instant.ofEpochMilli(at - window),
                Instant.ofEpochMilli(at + window))) {
            return it.hasNext();
        }
    }

    private void deadLetter(Record<String, UsageEvent> record, UsageEvent u) {
        metrics.outsideDedupWindow();
        RecordMetadata md = context.recordMetadata().orElse(null);
        String topic = md != null ? md.topic() : usageTopic;
        LOG.error("usage of {} at {} is older than the dedup window ({} ms behind stream time): not billed, "
                        + "dead-lettered from {}-{}@{}", u.getRequestId(), u.getAt(), context.currentStreamTimeMs() - u.getAt().toEpochMilli(),
                topic, md != null ? md.partition() : -1, md != null ? md.offset() : -1);
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(u.getRequestId())
                .setTenantId(u.getTenantId())
                .setStage("billing")
                .setSourceTopic(topic)
                .setSourcePartition(md != null ? md.partition() : -1)
                .setSourceOffset(md != null ? md.offset() : -1)
                .setPayload(ByteBuffer.wrap(usageSerializer.serialize(topic, u)))
                .setErrorClass("usage_outside_dedup_window")
                .setErrorMessage("usage at " + u.getAt() + " is older than the billing dedup window ("
                        + Duration.ofMillis(window) + ") behind the newest usage of its partition; it cannot be "
                        + "checked for a previous bill, so it was not billed. Re-rate or bill it by hand after checking "
                        + "usage_records for request " + u.getRequestId())
                .setAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        context.forward(new Record<>(u.getRequestId(), dl, record.timestamp()), BillingTopology.DLQ_SINK);
    }
}
