package llmq.ingest.status;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import llmq.avro.Priority;

/**
 * Requests this instance accepted in the last moments, so that a status query right after the
 * 202 answers {@code queued} before the status store has caught up with the events. Bounded
 * and short-lived; the status store is the source of truth.
 */
public final class RecentlyAccepted {

    /** What is known at admission. */
    public record Entry(String tenantId, Priority priority, Instant acceptedAt, String model) {
    }

    private final Duration ttl;
    private final int capacity;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    public RecentlyAccepted(Duration ttl, int capacity) {
        this.ttl = ttl;
        this.capacity = capacity;
    }

    public synchronized void put(String id, String tenantId, Priority priority, Instant at, String model) {
        entries.put(id, new Entry(tenantId, priority, at, model));
        while (entries.size() > capacity) {
            entries.remove(entries.keySet().iterator().next());
        }
    }

    public synchronized Optional<Entry> get(String id, Instant now) {
        Entry e = entries.get(id);
        if (e == null || e.acceptedAt().plus(ttl).isBefore(now)) {
            return Optional.empty();
        }
        return Optional.of(e);
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
                it.remove();
            } else {
                break;
            }
        }
    }
}
