package llmq.router.classify;

import llmq.avro.Tenant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/** Keeps the global tenant store equal to {@code llm.config.tenants}: upsert, or delete on a tombstone. */
public final class TenantTableUpdater implements Processor<String, Tenant, Void, Void> {

    private final String storeName;
    private KeyValueStore<String, Tenant> store;

    public TenantTableUpdater(String storeName) {
        this.storeName = storeName;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, Tenant> record) {
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
