package llmq.ingest.status;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import llmq.avro.Priority;

/**
 * Requests this instance accepted in the last moments, so that a status query right after the
 * 202 answers {@code queued}, and a retry with the same idempotency key finds the original id,
 * before the status store has caught up with the events. Bounded and short-lived; the status
 * store is the source of truth.
 */
public final class RecentlyAccepted {

    /** What is known at admission. {@code dedupKey} is null without an idempotency key. */
    public record Entry(String tenantId, Priority priority, Instant acceptedAt, String model, String dedupKey) {
    }

    private final Duration ttl;
    private final int capacity;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> byDedupKey = new HashMap<>();

    public RecentlyAccepted(Duration ttl, int capacity) {
        this.ttl = ttl;
        this.capacity = capacity;
    }

    public void put(String id, String tenantId, Priority priority, Instant at, String model) {
        put(id, tenantId, priority, at, model, null);
    }

    public synchronized void put(String id, String tenantId, Priority priority, Instant at, String model, String dedupKey) {
        entries.put(id, new Entry(tenantId, priority, at, model, dedupKey));
        if (dedupKey != null) {
            byDedupKey.putIfAbsent(dedupKey, id);
        }
        while (entries.size() > capacity) {
            remove(entries.keySet().iterator().next());
        }
    }

    public synchronized Optional<Entry> get(String id, Instant now) {
        Entry e = entries.get(id);
        if (e == null || e.acceptedAt().plus(ttl).isBefore(now)) {
            return Optional.empty();
        }
        return Optional.of(e);
    }

    /** The id of the request accepted here recently under {@code dedupKey} (tenant:idempotency key). */
    public synchronized Optional<String> idOf(String dedupKey, Instant now) {
        String id = byDedupKey.get(dedupKey);
        return id == null ? Optional.empty() : get(id, now).map(e -> id);
    }

    synchronized int size() {
        return entries.size();
    }

    /** Drops expired entries (insertion order is admission order). */
    public synchronized void expire(Instant now) {
        var it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Entry> e = it.next();
            if (e.getValue().acceptedAt().plus(ttl).isBefore(now)) {
                if (e.getValue().dedupKey() != null) {
                    byDedupKey.remove(e.getValue().dedupKey(), e.getKey());
                }
                it.remove();
            } else {
                break;
            }
        }
    }

    private void remove(String id) {
        Entry e = entries.remove(id);
        if (e != null && e.dedupKey() != null) {
            byDedupKey.remove(e.dedupKey(), id);
        }
    }
}
