package llmq.ingest;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of ingest-api, bound once from llmq's layered settings and validated at start-up. Every
 * key with its default is in {@code docs/configuration.md} and {@code docs/api.md}.
 *
 * <ul>
 *   <li>{@code ingest.host} ({@code 127.0.0.1}), {@code ingest.port} ({@code 8080}).</li>
 *   <li>{@code ingest.public-url} (none): base URL put in {@code status_url}; by default taken from the
 *       request's {@code Host} header.</li>
 *   <li>{@code ingest.advertised-url} ({@code http://<host>:<bound port>}): how the other ingest instances
 *       reach this one (Kafka Streams {@code application.server}); status, batch and idempotency lookups
 *       for partitions this instance owns are forwarded here.</li>
 *   <li>{@code ingest.kafka-timeout} ({@code 5s}): longest wait for Kafka's acknowledgement before 503.</li>
 *   <li>{@code ingest.max-body} ({@code 1048576}): largest body of a single request (413 above);
 *       {@code ingest.max-messages} ({@code 1000}), {@code ingest.max-message-chars} ({@code 200000}),
 *       {@code ingest.max-metadata} ({@code 50}).</li>
 *   <li>{@code ingest.models} (none): models accepted besides those with a price in
 *       {@code llm.config.prices}; when both are empty any model is accepted.</li>
 *   <li>{@code ingest.router-admin-url} ({@code http://127.0.0.1:8082}): the router's admin view, asked
 *       for queue positions and backlog depths.</li>
 *   <li>{@code ingest.idempotency.window} ({@code 24h}), {@code ingest.cancel.wait} ({@code 2s}),
 *       {@code ingest.openai.timeout} ({@code 300s}), {@code ingest.admin-token} (none: admin API off),
 *       {@code ingest.log-prompts} ({@code false}), {@code ingest.access-log} ({@code true}),
 *       {@code ingest.queues.window} ({@code 5m}).</li>
 *   <li>{@code ingest.limits.*}, {@code ingest.batch.*}, {@code ingest.callbacks.*}: see the nested records.</li>
 *   <li>{@code ingest.status.application-id} ({@code llmq-ingest-status}), {@code ingest.status.state-dir}
 *       ({@code llmq-data/ingest-status}), {@code ingest.streams.*}: the status view's Streams app.</li>
 * </ul>
 */
public record IngestConfig(String host, int port, String publicUrl, String advertisedUrl, Duration kafkaTimeout,
                           int maxBody, int maxMessages, int maxMessageChars, int maxMetadata, List<String> models,
                           String routerAdminUrl, Duration idempotencyWindow, Duration cancelWait,
                           Duration openAiTimeout, String adminToken, boolean logPrompts, boolean accessLog,
                           Duration queuesWindow, Limits limits, Batches batches, Callbacks callbacks,
                           String statusApplicationId, Path statusStateDir, Map<String, String> streamsOverrides) {

    /**
     * Per-tenant rate limits (per ingest instance).
     *
     * @param burst                {@code ingest.limits.burst} ({@code 10s}): bucket capacity as a span of the
     *                             tenant's rate — RPM 600 with 10s allows a burst of 100 requests
     * @param defaultOutputTokens  {@code ingest.limits.default-output-tokens} ({@code 256}): TPM estimate of the
     *                             output when a request has no {@code max_tokens}
     */
    public record Limits(Duration burst, int defaultOutputTokens) {
        public Limits {
            if (burst.toMillis() < 1000) {
                throw new ConfigException("ingest.limits.burst", burst.toString(), "must be at least 1s");
            }
            if (defaultOutputTokens < 0) {
                throw new ConfigException("ingest.limits.default-output-tokens", Integer.toString(defaultOutputTokens),
                        "must not be negative");
            }
        }
    }

    /**
     * {@code POST /v1/batches}.
     *
     * @param maxLines        {@code ingest.batch.max-lines} ({@code 10000})
     * @param maxBody         {@code ingest.batch.max-body} ({@code 16777216})
     * @param transactionalId {@code ingest.batch.transactional-id} ({@code llmq-ingest-batches-<advertised host:port>})
     */
    public record Batches(int maxLines, int maxBody, String transactionalId) {
        public Batches {
            if (maxLines < 1) {
                throw new ConfigException("ingest.batch.max-lines", Integer.toString(maxLines), "must be at least 1");
            }
            if (maxBody < 1024) {
                throw new ConfigException("ingest.batch.max-body", Integer.toString(maxBody), "must be at least 1024 bytes");
            }
        }
    }

    /**
     * Completion callbacks.
     *
     * @param secret         {@code ingest.callbacks.secret} (none): master secret the per-tenant signing keys
     *                       are derived from; without it {@code callback_url} is refused
     * @param groupId        {@code ingest.callbacks.group-id} ({@code llmq-ingest-callbacks})
     * @param maxAttempts    {@code ingest.callbacks.max-attempts} ({@code 8})
     * @param initialBackoff {@code ingest.callbacks.initial-backoff} ({@code 1s}), doubled per attempt
     * @param maxBackoff     {@code ingest.callbacks.max-backoff} ({@code 5m})
     * @param timeout        {@code ingest.callbacks.timeout} ({@code 10s}) per delivery attempt
     * @param maxInFlight    {@code ingest.callbacks.max-in-flight} ({@code 256}) deliveries pending per instance
     */
    public record Callbacks(String secret, String groupId, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
                            Duration timeout, int maxInFlight) {
        public Callbacks {
            if (secret != null && secret.length() < 16) {
                throw new ConfigException("ingest.callbacks.secret", "(hidden)", "must be at least 16 characters");
            }
            if (maxAttempts < 1) {
                throw new ConfigException("ingest.callbacks.max-attempts", Integer.toString(maxAttempts), "must be at least 1");
            }
            if (maxInFlight < 1) {
                throw new ConfigException("ingest.callbacks.max-in-flight", Integer.toString(maxInFlight), "must be at least 1");
            }
        }

        /** True when callbacks can be signed, hence accepted. */
        public boolean enabled() {
            return secret != null;
        }

        @Override
        public String toString() {
            return "Callbacks[enabled=" + enabled() + ", groupId=" + groupId + ", maxAttempts=" + maxAttempts + "]";
        }
    }

    public IngestConfig {
        if (kafkaTimeout.toMillis() < 100) {
            throw new ConfigException("ingest.kafka-timeout", kafkaTimeout.toString(), "must be at least 100ms");
        }
        if (maxBody < 1024) {
            throw new ConfigException("ingest.max-body", Integer.toString(maxBody), "must be at least 1024 bytes");
        }
        if (maxMessageChars < 1) {
            throw new ConfigException("ingest.max-message-chars", Integer.toString(maxMessageChars), "must be at least 1");
        }
        if (advertisedUrl != null) {
            URI u = URI.create(advertisedUrl);
            if (u.getHost() == null || u.getPort() <= 0) {
                throw new ConfigException("ingest.advertised-url", advertisedUrl, "must be http://host:port");
            }
        }
        if (!routerAdminUrl.startsWith("http://") && !routerAdminUrl.startsWith("https://")) {
            throw new ConfigException("ingest.router-admin-url", routerAdminUrl, "must be an http(s) URL");
        }
        if (adminToken != null && adminToken.length() < 16) {
            throw new ConfigException("ingest.admin-token", "(hidden)", "must be at least 16 characters");
        }
        if (openAiTimeout.toMillis() < 100) {
            throw new ConfigException("ingest.openai.timeout", openAiTimeout.toString(), "must be at least 100ms");
        }
        models = List.copyOf(models);
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    public static IngestConfig from(Settings s) {
        return new IngestConfig(
                s.string("ingest.host", "127.0.0.1"),
                s.integer("ingest.port", 8080),
                s.string("ingest.public-url", null),
                s.string("ingest.advertised-url", null),
                s.duration("ingest.kafka-timeout", Duration.ofSeconds(5)),
                s.integer("ingest.max-body", 1_048_576),
                s.integer("ingest.max-messages", 1000),
                s.integer("ingest.max-message-chars", 200_000),
                s.integer("ingest.max-metadata", 50),
                s.list("ingest.models"),
                s.string("ingest.router-admin-url", "http://127.0.0.1:8082").replaceAll("/+$", ""),
                s.duration("ingest.idempotency.window", Duration.ofHours(24)),
                s.duration("ingest.cancel.wait", Duration.ofSeconds(2)),
                s.duration("ingest.openai.timeout", Duration.ofSeconds(300)),
                s.string("ingest.admin-token", null),
                s.bool("ingest.log-prompts", false),
                s.bool("ingest.access-log", true),
                s.duration("ingest.queues.window", Duration.ofMinutes(5)),
                new Limits(s.duration("ingest.limits.burst", Duration.ofSeconds(10)),
                        s.integer("ingest.limits.default-output-tokens", 256)),
                new Batches(s.integer("ingest.batch.max-lines", 10_000), s.integer("ingest.batch.max-body", 16 * 1024 * 1024),
                        s.string("ingest.batch.transactional-id", null)),
                new Callbacks(s.string("ingest.callbacks.secret", null),
                        s.string("ingest.callbacks.group-id", "llmq-ingest-callbacks"),
                        s.integer("ingest.callbacks.max-attempts", 8),
                        s.duration("ingest.callbacks.initial-backoff", Duration.ofSeconds(1)),
                        s.duration("ingest.callbacks.max-backoff", Duration.ofMinutes(5)),
                        s.duration("ingest.callbacks.timeout", Duration.ofSeconds(10)),
                        s.integer("ingest.callbacks.max-in-flight", 256)),
                s.string("ingest.status.application-id", "llmq-ingest-status"),
                Path.of(s.string("ingest.status.state-dir", "llmq-data/ingest-status")),
                StreamsSettings.overrides(s, "ingest"));
    }

    /** The largest body any endpoint takes (the server's limit; endpoints check their own). */
    public int serverMaxBody() {
        return Math.max(maxBody, batches.maxBody());
    }

    @Override
    public String toString() {
        return "IngestConfig[host=" + host + ", port=" + port + ", advertisedUrl=" + advertisedUrl + ", adminApi="
                + (adminToken != null) + ", callbacks=" + callbacks + "]";
    }
}
