package llmq.router.view;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import llmq.avro.Priority;
import llmq.topics.catalog.TopicCatalog;

/**
 * The router's Micrometer metrics, shared by all its stream tasks: parked, delayed and queued
 * (released, not started) depth per level summed over the tasks of this instance; releases,
 * promotions, dedup hits, expiries, cancellations, dead letters; release latency (accepted →
 * released) per level; and a release rate per level for wait estimates. Thread-safe: stream
 * threads write, the HTTP view reads.
 */
public final class RouterMetrics {

    private static final int LEVELS = Priority.values().length;
    private static final int RATE_WINDOW_SECONDS = 10;

    /** Depths one task reports; the instance's gauges sum them. */
    public static final class TaskDepths {
        final AtomicLongArray parked = new AtomicLongArray(LEVELS);
        final AtomicLongArray delayed = new AtomicLongArray(LEVELS);
        final AtomicLongArray queued = new AtomicLongArray(LEVELS);

        public void parked(Priority p, long n) {
            parked.set(p.ordinal(), n);
        }

        public void delayed(Priority p, long n) {
            delayed.set(p.ordinal(), n);
        }

        public void queued(Priority p, long n) {
            queued.set(p.ordinal(), n);
        }
    }

    private final MeterRegistry registry;
    private final Map<String, TaskDepths> tasks = new ConcurrentHashMap<>();
    private final Map<Priority, Counter> releases = new EnumMap<>(Priority.class);
    private final Map<Priority, Timer> releaseLatency = new EnumMap<>(Priority.class);
    private final Map<Priority, Counter> expiries = new EnumMap<>(Priority.class);
    private final Map<Priority, Counter> classified = new EnumMap<>(Priority.class);
    private final Counter dedupHits;
    private final Counter cancellations;
    private final long[][] rateBuckets = new long[LEVELS][RATE_WINDOW_SECONDS];
    private final long[][] rateSeconds = new long[LEVELS][RATE_WINDOW_SECONDS];

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Priority p : Priority.values()) {
            String level = TopicCatalog.level(p);
            releases.put(p, Counter.builder("llmq_router_releases").tag("level", level)
                    .description("requests released into llm.queue.<level>").register(registry));
            releaseLatency.put(p, Timer.builder("llmq_router_release_latency").tag("level", level)
                    .description("accepted → released, first attempts").publishPercentiles(0.5, 0.99)
                    .register(registry));
            expiries.put(p, Counter.builder("llmq_router_expired").tag("level", level).register(registry));
            classified.put(p, Counter.builder("llmq_router_classified").tag("level", level)
                    .description("requests from llm.requests classified to this level").register(registry));
            Gauge.builder("llmq_router_parked", () -> sum(t -> t.parked, p)).tag("level", level)
                    .description("eligible requests waiting in the router").register(registry);
            Gauge.builder("llmq_router_delayed", () -> sum(t -> t.delayed, p)).tag("level", level)
                    .description("requests waiting for not_before or a retry time").register(registry);
            Gauge.builder("llmq_router_queued", () -> sum(t -> t.queued, p)).tag("level", level)
                    .description("released to llm.queue.<level>, not started yet").register(registry);
        }
        dedupHits = Counter.builder("llmq_router_dedup_hits").register(registry);
        cancellations = Counter.builder("llmq_router_cancelled").register(registry);
    }

    /** Metrics into a throw-away registry (topology tests). */
    public static RouterMetrics detached() {
        return new RouterMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    private long sum(java.util.function.Function<TaskDepths, AtomicLongArray> f, Priority p) {
        long n = 0;
        for (TaskDepths t : tasks.values()) {
            n += f.apply(t).get(p.ordinal());
        }
        return n;
    }

    /** Depths reported by one task (by its task id); call {@link #unregister} on close. */
    public TaskDepths register(String task) {
        TaskDepths d = new TaskDepths();
        tasks.put(task, d);
        return d;
    }

    public void unregister(String task) {
        tasks.remove(task);
    }

    /** Parked (eligible) requests at {@code p} in this instance. */
    public long parked(Priority p) {
        return sum(t -> t.parked, p);
    }

    public long delayed(Priority p) {
        return sum(t -> t.delayed, p);
    }

    public long queued(Priority p) {
        return sum(t -> t.queued, p);
    }

    public void released(Priority p, Duration sinceAccepted, long nowMillis) {
        releases.get(p).increment();
        if (sinceAccepted != null) {
            releaseLatency.get(p).record(sinceAccepted.isNegative() ? Duration.ZERO : sinceAccepted);
        }
        long second = nowMillis / 1000;
        synchronized (rateBuckets) {
            int i = (int) (second % RATE_WINDOW_SECONDS);
            if (rateSeconds[p.ordinal()][i] != second) {
                rateSeconds[p.ordinal()][i] = second;
                rateBuckets[p.ordinal()][i] = 0;
            }
            rateBuckets[p.ordinal()][i]++;
        }
    }

    /** Releases per second at {@code p} over the last {@value #RATE_WINDOW_SECONDS} seconds. */
    public double releaseRate(Priority p, long nowMillis) {
        long second = nowMillis / 1000;
        long n = 0;
        synchronized (rateBuckets) {
            for (int i = 0; i < RATE_WINDOW_SECONDS; i++) {
                long s = rateSeconds[p.ordinal()][i];
                if (s > second - RATE_WINDOW_SECONDS && s <= second) {
                    n += rateBuckets[p.ordinal()][i];
                }
            }
        }
        return n / (double) RATE_WINDOW_SECONDS;
    }

    public void promoted(Priority from, Priority to) {
        Counter.builder("llmq_router_promotions").tag("from", TopicCatalog.level(from)).tag("to", TopicCatalog.level(to))
                .register(registry).increment();
    }

    public void dedupHit() {
        dedupHits.increment();
    }

    public void expired(Priority p) {
        expiries.get(p).increment();
    }

    public void cancelled() {
        cancellations.increment();
    }

    public void classified(Priority p) {
        classified.get(p).increment();
    }

    public void deadLettered(String stage, String reason) {
        Counter.builder("llmq_router_dead_letters").tag("stage", stage).tag("reason", reason).register(registry).increment();
    }
}
