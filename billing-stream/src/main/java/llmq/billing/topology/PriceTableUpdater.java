package llmq.billing.topology;

import llmq.avro.ModelPrice;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/** Keeps the global price store equal to {@code llm.config.prices}: upsert, or delete on a tombstone. */
final class PriceTableUpdater implements Processor<String, ModelPrice, Void, Void> {

    private final String storeName;
    private KeyValueStore<String, ModelPrice> store;

    PriceTableUpdater(String storeName) {
        this.storeName = storeName;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, ModelPrice> record) {
        if (record.key() == null) {
            return;
        }
        if (record.value() == null) {
            store.delete(record.key());
        } else {
            store.put(record.key(), record.value());
        }
    }
}
