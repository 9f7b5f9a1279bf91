package llmq.billing.pricing;

import java.time.Instant;
import java.util.Optional;
import llmq.avro.ModelPrice;
import llmq.billing.topology.StoreKeys;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Price rows kept in one ordered key-value store so that the price in effect for a model at a
 * time is one reverse range read, however many prices the table holds. Each row is stored twice:
 * under {@code id␟<row id>} (to find what a later change or delete of the row replaces) and under
 * {@code m␟<model>␟<sortable effective_from>} (to look prices up).
 */
public final class PriceIndex {

    private static final char SEP = (char) StoreKeys.SEP_CHAR_CODE;

    private PriceIndex() {
    }

    static String byId(String rowId) {
        return "id" + SEP + rowId;
    }

    static String byModel(String model, long effectiveFromMillis) {
        return "m" + SEP + model + SEP + StoreKeys.sortable(effectiveFromMillis);
    }

    /** Applies one change of row {@code rowId}: the new row, or null when it was deleted. */
    public static void apply(KeyValueStore<String, ModelPrice> store, String rowId, ModelPrice row) {
        ModelPrice old = store.get(byId(rowId));
        if (old != null) {
            store.delete(byModel(old.getModel(), old.getEffectiveFrom().toEpochMilli()));
            store.delete(byId(rowId));
        }
        if (row != null) {
            store.put(byId(rowId), row);
            store.put(byModel(row.getModel(), row.getEffectiveFrom().toEpochMilli()), row);
        }
    }

    /** The price of {@code model} in effect at {@code at}: the row with the latest effective_from not after it. */
    public static Optional<ModelPrice> effective(ReadOnlyKeyValueStore<String, ModelPrice> store, String model, Instant at) {
        try (KeyValueIterator<String, ModelPrice> it = store.reverseRange(byModel(model, Long.MIN_VALUE),
                byModel(model, at.toEpochMilli()))) {
            while (it.hasNext()) {
                KeyValue<String, ModelPrice> kv = it.next();
                if (kv.value != null && model.equals(kv.value.getModel())) {
                    return Optional.of(kv.value);
                }
            }
        }
        return Optional.empty();
    }
}
