package llmq.router;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import llmq.avro.Priority;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of the priority-router. Every key, its default and why (docs/configuration.md has the
 * same list):
 *
 * <ul>
 *   <li>{@code router.application-id} ({@code llmq-priority-router}): Streams application id;
 *       names the consumer group, stores' changelogs and the repartition topic: never change it
 *       on a running system.</li>
 *   <li>{@code router.state-dir} ({@code ./llmq-data/router}), {@code router.threads} ({@code 1}).</li>
 *   <li>{@code router.commit-interval} ({@code 20ms}): under exactly-once the floor on queueing latency.</li>
 *   <li>{@code router.tick} ({@code 5ms}): wall-clock punctuation that promotes, expires and tops queues up.</li>
 *   <li>{@code router.queue.depth.<level>} (realtime {@code 64}, high {@code 32}, normal and low
 *       {@code 16}): released-but-not-started requests each partition keeps in {@code llm.queue.<level>}.
 *       Size it so the workers never starve: at least a partition's share of the requests the workers
 *       start per second × 0.1 s (a place cycles in about two commit intervals plus two fetches).</li>
 *   <li>{@code router.max-wait.<level>} (realtime {@code 100ms}, high {@code 5s}, normal {@code 30s},
 *       low {@code 120s}): a parked request waiting longer at its level is promoted one level.</li>
 *   <li>{@code router.aging.enabled} ({@code true}).</li>
 *   <li>{@code router.fairness.default-output-tokens} ({@code 256}): output estimate when a request has no max_tokens.</li>
 *   <li>{@code router.fairness.weights.<tenant>} (tenant table weight, else 1): Virtual Token Counter weight.</li>
 *   <li>{@code router.dedup.window} ({@code 24h}), {@code router.dedup.purge-interval} ({@code 1m}).</li>
 *   <li>{@code router.classify.*}: rules for {@code llm.requests}, see {@link ClassifyRules}.</li>
 *   <li>{@code router.admin.host}/{@code router.admin.port} ({@code 127.0.0.1}/{@code 8082}): health, metrics,
 *       backlog view; {@code router.admin.advertised} (host:port, default host:port) is how other router
 *       instances reach this one.</li>
 *   <li>{@code router.streams.*}: raw Kafka Streams overrides.</li>
 * </ul>
 */
public record RouterConfig(String applicationId, Path stateDir, Duration commitInterval, int threads, Duration tick,
                           Map<Priority, Integer> queueDepth, Map<Priority, Duration> maxWait, boolean agingEnabled,
                           int defaultOutputTokens, Map<String, Double> tenantWeights, Duration dedupWindow,
                           Duration dedupPurgeInterval, ClassifyRules classify, String adminHost, int adminPort,
                           String advertised, Map<String, String> streamsOverrides) {

    /**
     * Defaults of {@code router.queue.depth.<level>}. A queue place is free again only when the router
     * sees the worker's STARTED event, which its read-committed consumer sees after its own next
     * commit: a place cycles in about two commit intervals plus two fetches (60–100 ms here). The
     * urgent levels get room for bursts; the lower ones stay shallow so their backlog can still be
     * reordered, promoted and cancelled.
     */
    public static final Map<Priority, Integer> DEFAULT_DEPTH = Map.of(
            Priority.REALTIME, 64, Priority.HIGH, 32, Priority.NORMAL, 16, Priority.LOW, 16);

    /** Defaults of {@code router.max-wait.<level>}. */
    public static final Map<Priority, Duration> DEFAULT_MAX_WAIT = Map.of(
            Priority.REALTIME, Duration.ofMillis(100), Priority.HIGH, Duration.ofSeconds(5),
            Priority.NORMAL, Duration.ofSeconds(30), Priority.LOW, Duration.ofSeconds(120));

    public RouterConfig {
        positive("router.commit-interval", commitInterval);
        positive("router.tick", tick);
        positive("router.dedup.purge-interval", dedupPurgeInterval);
        if (threads < 1) {
            throw new ConfigException("router.threads", Integer.toString(threads), "must be at least 1");
        }
        if (dedupWindow.isNegative()) {
            throw new ConfigException("router.dedup.window", dedupWindow.toString(), "must not be negative");
        }
        queueDepth.forEach((p, d) -> {
            if (d < 1) {
                throw new ConfigException("router.queue.depth." + TopicCatalog.level(p), d.toString(), "must be at least 1");
            }
        });
        maxWait.forEach((p, d) -> positive("router.max-wait." + TopicCatalog.level(p), d));
        if (defaultOutputTokens < 1) {
            throw new ConfigException("router.fairness.default-output-tokens", Integer.toString(defaultOutputTokens),
                    "must be at least 1");
        }
        tenantWeights.forEach((t, w) -> {
            if (!(w > 0)) {
                throw new ConfigException("router.fairness.weights." + t, w.toString(), "must be positive");
            }
        });
        queueDepth = Map.copyOf(queueDepth);
        maxWait = Map.copyOf(maxWait);
        tenantWeights = Map.copyOf(tenantWeights);
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    private static void positive(String key, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(key, d.toString(), "must be positive");
        }
    }

    public static RouterConfig from(Settings s) {
        Map<Priority, Integer> depth = new EnumMap<>(Priority.class);
        Map<Priority, Duration> wait = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            depth.put(p, s.integer("router.queue.depth." + TopicCatalog.level(p), DEFAULT_DEPTH.get(p)));
            wait.put(p, s.duration("router.max-wait." + TopicCatalog.level(p), DEFAULT_MAX_WAIT.get(p)));
        }
        Map<String, Double> weights = new HashMap<>();
        s.withPrefix("router.fairness.weights").forEach((tenant, w) -> {
            try {
                weights.put(tenant, Double.parseDouble(w));
            } catch (NumberFormatException e) {
                throw new ConfigException("router.fairness.weights." + tenant, w, "must be a number");
            }
        });
        String host = s.string("router.admin.host", "127.0.0.1");
        int port = s.integer("router.admin.port", 8082);
        return new RouterConfig(
                s.string("router.application-id", "llmq-priority-router"),
                Path.of(s.string("router.state-dir", "llmq-data/router")),
                s.duration("router.commit-interval", Duration.ofMillis(20)),
                s.integer("router.threads", 1),
                s.duration("router.tick", Duration.ofMillis(5)),
                depth, wait,
                s.bool("router.aging.enabled", true),
                s.integer("router.fairness.default-output-tokens", 256),
                weights,
                s.duration("router.dedup.window", Duration.ofHours(24)),
                s.duration("router.dedup.purge-interval", Duration.ofMinutes(1)),
                ClassifyRules.from(s),
                host, port,
                s.string("router.admin.advertised", null),
                StreamsSettings.overrides(s, "router"));
    }

    /** Defaults, for tests. */
    public static RouterConfig defaults() {
        return from(Settings.of(Map.of()));
    }

    /**
     * How requests on the public {@code llm.requests} topic get their level.
     *
     * <ol>
     *   <li>an explicit {@code priority} the tenant is allowed (its maximum in the tenant table);</li>
     *   <li>keyword rules: {@code router.classify.keywords.<level>} (comma-separated, case-insensitive,
     *       matched in the last user message), most urgent level first;</li>
     *   <li>the size rule: a prompt of at least {@code router.classify.large-prompt-tokens} ({@code 8000})
     *       estimated tokens goes to {@code router.classify.large-prompt-priority} ({@code low});</li>
     *   <li>the tenant's default priority;</li>
     *   <li>{@code router.classify.default-priority} ({@code normal}).</li>
     * </ol>
     * The result never exceeds the tenant's maximum. {@code router.classify.max-bytes} ({@code 1048576})
     * bounds a record; {@code router.classify.require-known-tenant} ({@code true}) dead-letters requests of
     * tenants missing from {@code llm.config.tenants}.
     */
    public record ClassifyRules(Priority defaultPriority, int largePromptTokens, Priority largePromptPriority,
                                Map<Priority, List<String>> keywords, int maxBytes, boolean requireKnownTenant) {

        public ClassifyRules {
            keywords = Map.copyOf(keywords);
        }

        static ClassifyRules from(Settings s) {
            Map<Priority, List<String>> keywords = new EnumMap<>(Priority.class);
            for (Priority p : Priority.values()) {
                List<String> words = s.list("router.classify.keywords." + TopicCatalog.level(p)).stream()
                        .map(w -> w.toLowerCase(Locale.ROOT)).toList();
                if (!words.isEmpty()) {
                    keywords.put(p, words);
                }
            }
            int maxBytes = s.integer("router.classify.max-bytes", 1_048_576);
            if (maxBytes < 1024) {
                throw new ConfigException("router.classify.max-bytes", Integer.toString(maxBytes), "must be at least 1024");
            }
            return new ClassifyRules(level(s, "router.classify.default-priority", Priority.NORMAL),
                    s.integer("router.classify.large-prompt-tokens", 8000),
                    level(s, "router.classify.large-prompt-priority", Priority.LOW),
                    keywords, maxBytes, s.bool("router.classify.require-known-tenant", true));
        }

        private static Priority level(Settings s, String key, Priority dflt) {
            String v = s.string(key, null);
            if (v == null) {
                return dflt;
            }
            try {
                return Priority.valueOf(v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key, v, "must be one of realtime, high, normal, low");
            }
        }
    }
}
