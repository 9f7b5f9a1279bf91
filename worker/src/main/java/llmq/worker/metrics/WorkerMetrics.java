package llmq.worker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import llmq.avro.Priority;
import llmq.topics.catalog.TopicCatalog;

/**
 * The worker's meters, served as Prometheus text on the admin endpoint's {@code /metrics}.
 *
 * <ul>
 *   <li>{@code llmq_worker_requests_total{outcome}}: completed, retry_scheduled, failed, expired, undecodable.</li>
 *   <li>{@code llmq_worker_in_flight}: model calls in flight; {@code llmq_worker_buffered{level}}: records taken
 *       from Kafka and waiting for a slot.</li>
 *   <li>{@code llmq_worker_endpoint_in_flight{endpoint}}, {@code llmq_worker_endpoint_circuit_state{endpoint}}
 *       (0 closed, 1 half open, 2 open, 3 other), {@code llmq_worker_endpoint_healthy{endpoint}} (active probe).</li>
 *   <li>{@code llmq_worker_call_seconds{endpoint,model,outcome}} and {@code llmq_worker_ttft_seconds{endpoint,model}}:
 *       histograms of call latency and of time to the first streamed token.</li>
 *   <li>{@code llmq_worker_tokens_total{endpoint,model,kind}}: prompt and completion tokens served.</li>
 *   <li>{@code llmq_worker_call_errors_total{endpoint,class}}, {@code llmq_worker_retries_total{class}},
 *       {@code llmq_worker_dead_letters_total{class}}.</li>
 *   <li>{@code llmq_worker_queue_wait_seconds{level,since}}: from {@code released_at} (since=released) or
 *       {@code accepted_at} (since=accepted) to the start of the call.</li>
 *   <li>{@code llmq_worker_overhead_seconds}: from a record's arrival from Kafka to its HTTP request being handed
 *       to the HTTP client (includes the wait for a slot when the worker is saturated).</li>
 * </ul>
 */
public final class WorkerMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Timer overhead;

    public WorkerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.overhead = Timer.builder("llmq_worker_overhead")
                .description("record arrival from Kafka to HTTP request handed to the client")
                .publishPercentiles(0.5, 0.99)
                .percentilePrecision(2)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1).dividedBy(100))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Registers a gauge read from {@code value} on each scrape. */
    public void gauge(String name, String description, Map<String, String> tags, Supplier<Number> value) {
        Gauge.Builder<Supplier<Number>> b = Gauge.builder(name, value).description(description);
        tags.forEach(b::tag);
        b.register(registry);
    }

    public void request(String outcome) {
        counter("llmq_worker_requests", "outcome", outcome).increment();
    }

    /** An outcome transaction was aborted ({@code why}: commit_failed, partitions_lost) and partitions were rewound. */
    public void transactionAborted(String why, int rewoundPartitions) {
        counter("llmq_worker_transaction_aborts", "reason", why).increment();
        counter("llmq_worker_rewound_partitions", "reason", why).increment(rewoundPartitions);
    }

    public void queueWait(Priority level, Duration sinceReleased, Duration sinceAccepted) {
        String l = TopicCatalog.level(level);
        timer("llmq_worker_queue_wait", "level", l, "since", "released").record(positive(sinceReleased));
        timer("llmq_worker_queue_wait", "level", l, "since", "accepted").record(positive(sinceAccepted));
    }

    public void overhead(long nanos) {
        overhead.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The overhead timer, for benchmarks. */
    public Timer overheadTimer() {
        return overhead;
    }

    /** One finished call: latency by outcome ({@code ok} or the error class). */
    public void call(String endpoint, String model, String outcome, long nanos) {
        timer("llmq_worker_call", "endpoint", endpoint, "model", model, "outcome", outcome)
                .record(nanos, TimeUnit.NANOSECONDS);
        if (!"ok".equals(outcome)) {
            counter("llmq_worker_call_errors", "endpoint", endpoint, "class", outcome).increment();
        }
    }

    public void ttft(String endpoint, String model, long nanos) {
        timer("llmq_worker_ttft", "endpoint", endpoint, "model", model).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void tokens(String endpoint, String model, int prompt, int completion) {
        counter("llmq_worker_tokens", "endpoint", endpoint, "model", model, "kind", "prompt").increment(prompt);
        counter("llmq_worker_tokens", "endpoint", endpoint, "model", model, "kind", "completion").increment(completion);
    }

    public void retry(String errorClass) {
        counter("llmq_worker_retries", "class", errorClass).increment();
    }

    public void deadLetter(String errorClass) {
        counter("llmq_worker_dead_letters", "class", errorClass).increment();
    }

    private static Duration positive(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }

    private Counter counter(String name, String... tags) {
        return counters.computeIfAbsent(key(name, tags), k -> Counter.builder(name).tags(tags).register(registry));
    }

    private Timer timer(String name, String... tags) {
        return timers.computeIfAbsent(key(name, tags), k -> Timer.builder(name).tags(tags)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry));
    }

    private static String key(String name, String... tags) {
        return name + '|' + String.join("|", tags);
    }
}
