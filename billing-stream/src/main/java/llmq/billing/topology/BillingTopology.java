package llmq.billing.topology;

import java.time.Duration;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The billing-stream topology.
 *
 * <p>Input: {@code llm.usage} (key: tenant id, value: {@code UsageEvent}) and, as a global
 * store, {@code llm.config.prices} (key: price row id, value: {@code ModelPrice}; tombstone =
 * deleted). Output: {@code llm.billing} (key: tenant id, value: {@code BillingRecord}), exactly
 * one per request id. State: {@value #USAGE_DEDUP_STORE} (request id → when billed; local
 * because a request's usage always has the same tenant key) and the global
 * {@value #PRICES_STORE}.
 */
public final class BillingTopology {

    public static final String PRICES_STORE = "billing-prices";
    public static final String USAGE_DEDUP_STORE = "billing-usage-dedup";
    public static final String PRICE_PROCESSOR = "price-usage";
    public static final String BILLING_SINK = "billing-sink";

    private BillingTopology() {
    }

    public static Topology build(Duration dedupWindow, TopicCatalog catalog, TopicSerdes serdes) {
        Topology t = new Topology();
        StoreBuilder<KeyValueStore<String, ModelPrice>> prices = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(PRICES_STORE), Serdes.String(), serdes.value(ModelPrice.class))
                .withLoggingDisabled();
        t.addGlobalStore(prices, "prices-source", serdes.key().deserializer(),
                serdes.value(ModelPrice.class).deserializer(), catalog.configPrices().name(), "prices-update",
                () -> new PriceTableUpdater(PRICES_STORE));

        t.addSource("usage-source", serdes.key().deserializer(), serdes.value(UsageEvent.class).deserializer(),
                catalog.usage().name());
        t.addProcessor(PRICE_PROCESSOR, () -> new PricingProcessor(dedupWindow), "usage-source");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(USAGE_DEDUP_STORE),
                Serdes.String(), Serdes.Long()), PRICE_PROCESSOR);
        t.addSink(BILLING_SINK, catalog.billing().name(), serdes.key().serializer(),
                serdes.value(BillingRecord.class).serializer(), PRICE_PROCESSOR);
        return t;
    }
}
