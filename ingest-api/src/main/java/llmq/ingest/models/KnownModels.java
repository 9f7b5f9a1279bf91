package llmq.ingest.models;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import llmq.avro.ModelPrice;
import llmq.ingest.submit.InvalidRequestException;

/**
 * The models ingest accepts: those configured ({@code ingest.models}) and every model with a price
 * row on {@code llm.config.prices} (kept in memory as billing's change data capture streams it).
 * When both are empty, any model is accepted (a system without prices yet).
 */
public final class KnownModels {

    private final Set<String> configured;
    /** Price row id → model. */
    private final Map<String, String> priced = new ConcurrentHashMap<>();
    /** The distinct priced models, rebuilt on change so that a check is one hash lookup. */
    private volatile Set<String> pricedModels = Set.of();

    public KnownModels(List<String> configured) {
        this.configured = Set.copyOf(configured);
    }

    /** Applies one record of {@code llm.config.prices}; null deletes. */
    public synchronized void onPrice(String rowId, ModelPrice price) {
        if (rowId == null) {
            return;
        }
        if (price == null) {
            priced.remove(rowId);
        } else {
            priced.put(rowId, price.getModel());
        }
        pricedModels = Set.copyOf(priced.values());
    }

    /** Every known model, sorted. */
    public List<String> all() {
        TreeSet<String> out = new TreeSet<>(configured);
        out.addAll(pricedModels);
        return List.copyOf(out);
    }

    /** True if {@code model} may be requested. */
    public boolean accepts(String model) {
        Set<String> p = pricedModels;
        return configured.contains(model) || p.contains(model) || (configured.isEmpty() && p.isEmpty());
    }

    /** Throws a 400 naming {@code field} and listing the known models when {@code model} is not one. */
    public void check(String model, String field) {
        if (model != null && !accepts(model)) {
            throw new InvalidRequestException(field, "unknown model '" + model + "'; known models: " + String.join(", ", all()));
        }
    }
}
