package llmq.billing.topology;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.billing.pricing.Pricing;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bills each request id once: usage already billed within the dedup window is dropped (a
 * worker re-ran a call after a crash, or the topic was replayed); new usage is priced with the
 * price in effect when the call finished and forwarded to {@code llm.billing}.
 */
final class PricingProcessor implements Processor<String, UsageEvent, String, BillingRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(PricingProcessor.class);

    private final Duration window;
    private ProcessorContext<String, BillingRecord> context;
    private KeyValueStore<String, Long> billed;
    private KeyValueStore<String, ModelPrice> prices;

    PricingProcessor(Duration window) {
        this.window = window;
    }

    @Override
    public void init(ProcessorContext<String, BillingRecord> context) {
        this.context = context;
        this.billed = context.getStateStore(BillingTopology.USAGE_DEDUP_STORE);
        this.prices = context.getStateStore(BillingTopology.PRICES_STORE);
        context.schedule(Duration.ofMinutes(10), PunctuationType.WALL_CLOCK_TIME, this::purge);
    }

    @Override
    public void process(Record<String, UsageEvent> record) {
        UsageEvent u = record.value();
        if (u == null || u.getRequestId() == null) {
            return;
        }
        if (billed.get(u.getRequestId()) != null) {
            LOG.debug("usage of {} already billed; dropping duplicate", u.getRequestId());
            return;
        }
        long now = context.currentSystemTimeMs();
        billed.put(u.getRequestId(), now);
        List<ModelPrice> all = new ArrayList<>();
        try (KeyValueIterator<String, ModelPrice> it = prices.all()) {
            it.forEachRemaining(kv -> all.add(kv.value));
        }
        BillingRecord b = Pricing.price(u, Pricing.effective(all, u.getModel(), u.getAt()), Instant.ofEpochMilli(now));
        if (b.getUnpriced()) {
            LOG.warn("no price for model {}: request {} billed at zero and flagged unpriced", u.getModel(), u.getRequestId());
        }
        context.forward(new Record<>(u.getTenantId(), b, record.timestamp()));
    }

    private void purge(long now) {
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = billed.all()) {
            while (it.hasNext()) {
                KeyValue<String, Long> kv = it.next();
                if (now - kv.value >= window.toMillis()) {
                    expired.add(kv.key);
                }
            }
        }
        expired.forEach(billed::delete);
    }
}
