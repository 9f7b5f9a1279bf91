package llmq.billing.topology;

import llmq.avro.ModelPrice;
import llmq.billing.pricing.PriceIndex;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global price index equal to {@code llm.config.prices} (key: row id): a changed row
 * replaces its previous index entries, a tombstone removes them. Runs again over the topic when
 * the global store is restored, so the index never holds raw topic records.
 */
final class PriceIndexUpdater implements Processor<String, ModelPrice, Void, Void> {

    private KeyValueStore<String, ModelPrice> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(BillingTopology.PRICES_STORE);
    }

    @Override
    public void process(Record<String, ModelPrice> record) {
        if (record.key() != null) {
            PriceIndex.apply(store, record.key(), record.value());
        }
    }
}
