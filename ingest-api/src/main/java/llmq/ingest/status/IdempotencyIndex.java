package llmq.ingest.status;

import java.time.Duration;
import llmq.avro.RequestEvent;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps, per dedup key ({@code tenant:idempotency key}), the ACCEPTED event of the first request
 * accepted under it, in {@value StatusTopology#IDEMPOTENCY_STORE}; a later acceptance under the same
 * key (two retries racing on two instances) does not replace it, unless the first is older than
 * the window. Every ten minutes entries older than the window are deleted.
 */
final class IdempotencyIndex implements Processor<String, RequestEvent, Void, Void> {

    private final Duration window;
    private KeyValueStore<String, RequestEvent> store;

    IdempotencyIndex(Duration window) {
        this.window = window;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(StatusTopology.IDEMPOTENCY_STORE);
        context.schedule(Duration.ofMinutes(10), PunctuationType.WALL_CLOCK_TIME, this::purge);
    }

    @Override
    public void process(Record<String, RequestEvent> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        RequestEvent first = store.get(record.key());
        if (first == null || expired(first, record.value().getAt().toEpochMilli())
                || first.getRequestId().equals(record.value().getRequestId())) {
            if (first == null || !first.getRequestId().equals(record.value().getRequestId())) {
                store.put(record.key(), record.value());
            }
        }
    }

    private boolean expired(RequestEvent e, long now) {
        return e.getAt().toEpochMilli() < now - window.toMillis();
    }

    private void purge(long now) {
        try (KeyValueIterator<String, RequestEvent> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, RequestEvent> kv = it.next();
                if (kv.value == null || expired(kv.value, now)) {
                    store.delete(kv.key);
                }
            }
        }
    }
}
