package llmq.router.schedule;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Virtual Token Counter fairness for one level (Sheng et al., "Fairness in Serving Large Language
 * Models", OSDI 2024): every tenant has a counter of the service it received divided by its
 * weight; the backlogged tenant with the smallest counter is served next. A tenant that becomes
 * backlogged is lifted to the smallest counter among the backlogged ones (or to the level's
 * virtual time when none is), so idle time banks no credit.
 *
 * <p>Bound: while two tenants are both backlogged, their counters never differ by more than the
 * largest single-request cost U (the one behind is always served next, and one request adds at
 * most U/weight), so their weighted service over any such interval differs by at most 2U.
 *
 * <p>Counters are in "milli-tokens" (service × 1000 / weight) to keep weights exact enough in a
 * long. Not thread-safe: one per stream task and level.
 */
public final class VirtualTokenCounter {

    private record Ranked(long counter, String tenant) implements Comparable<Ranked> {
        @Override
        public int compareTo(Ranked o) {
            int c = Long.compare(counter, o.counter);
            return c != 0 ? c : tenant.compareTo(o.tenant);
        }
    }

    private final Map<String, Long> counters = new HashMap<>();
    private final Map<String, Integer> backlog = new HashMap<>();
    private final TreeSet<Ranked> ranked = new TreeSet<>();
    private final ToDoubleFunction<String> weight;
    private long virtualTime;

    /** @param weight a tenant's weight (&gt; 0), e.g. from configuration or the tenant table */
    public VirtualTokenCounter(ToDoubleFunction<String> weight) {
        this.weight = weight;
    }

    /** Restores persisted state (counters and virtual time) before any backlog is added. */
    public void restore(String tenant, long counter) {
        counters.put(tenant, counter);
    }

    public void restoreVirtualTime(long t) {
        virtualTime = t;
    }

    public long virtualTime() {
        return virtualTime;
    }

    public long counter(String tenant) {
        return counters.getOrDefault(tenant, 0L);
    }

    /** Units a service amount costs {@code tenant}. */
    public long units(String tenant, long service) {
        double w = weight.applyAsDouble(tenant);
        return Math.round(service * 1000.0 / (w > 0 ? w : 1.0));
    }

    /** One more request of {@code tenant} waits; returns the counter if it changed (lift), else null. */
    public Long addBacklog(String tenant) {
        int n = backlog.merge(tenant, 1, Integer::sum);
        if (n > 1) {
            return null;
        }
        long c = counter(tenant);
        long floor = ranked.isEmpty() ? virtualTime : ranked.first().counter();
        Long changed = null;
        if (c < floor) {
            c = floor;
            counters.put(tenant, c);
            changed = c;
        }
        ranked.add(new Ranked(c, tenant));
        return changed;
    }

    /** One request of {@code tenant} no longer waits (released, cancelled, expired, promoted away). */
    public void removeBacklog(String tenant) {
        Integer n = backlog.get(tenant);
        if (n == null) {
            return;
        }
        if (n <= 1) {
            backlog.remove(tenant);
            ranked.remove(new Ranked(counter(tenant), tenant));
        } else {
            backlog.put(tenant, n - 1);
        }
    }

    /** The backlogged tenant to serve next, or null when none waits. */
    public String next() {
        return ranked.isEmpty() ? null : ranked.first().tenant();
    }

    /** Adds {@code units} (may be negative: a refund or correction) to {@code tenant}'s counter; returns the new value. */
    public long charge(String tenant, long units) {
        long before = counter(tenant);
        long after = before + units;
        boolean waiting = backlog.containsKey(tenant);
        if (waiting) {
            ranked.remove(new Ranked(before, tenant));
        }
        counters.put(tenant, after);
        if (waiting) {
            ranked.add(new Ranked(after, tenant));
        }
        if (units > 0) {
            virtualTime = Math.max(virtualTime, before);
        }
        return after;
    }

    /** Tenants with waiting requests. */
    public int backlogged() {
        return backlog.size();
    }

    /** Requests waiting for {@code tenant}. */
    public int backlog(String tenant) {
        return backlog.getOrDefault(tenant, 0);
    }

    @Override
    public String toString() {
        return "VTC" + Objects.toString(counters);
    }
}
