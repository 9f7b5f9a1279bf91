package llmq.topics.catalog;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import llmq.avro.ApiKey;
import llmq.avro.Batch;
import llmq.avro.BillingRecord;
import llmq.avro.CallbackDelivery;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.ModelPrice;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.Tenant;
import llmq.avro.TenantBudget;
import llmq.avro.UsageEvent;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;

/**
 * The one catalog of every llmq topic (DESIGN.md §3). Services take topic names and value types
 * from here, never from string literals. Immutable: build it once from settings.
 *
 * <p>Settings: {@code topics.partitions} (request-path partition count, default 6) and
 * {@code topics.replication.factor} (default -1: the broker's {@code default.replication.factor}).
 */
public final class TopicCatalog {

    /** Request-path partition count when not configured. */
    public static final int DEFAULT_PARTITIONS = 6;

    private final int partitions;
    private final short replicationFactor;
    private final TopicSpec<LlmRequest> requests;
    private final Map<Priority, TopicSpec<LlmRequest>> intake = new EnumMap<>(Priority.class);
    private final Map<Priority, TopicSpec<QueuedRequest>> queues = new EnumMap<>(Priority.class);
    private final TopicSpec<RequestEvent> events;
    private final TopicSpec<LlmResult> results;
    private final TopicSpec<UsageEvent> usage;
    private final TopicSpec<BillingRecord> billing;
    private final TopicSpec<DeadLetter> dlq;
    private final TopicSpec<ModelPrice> configPrices;
    private final TopicSpec<Tenant> configTenants;
    private final TopicSpec<ApiKey> configApiKeys;
    private final TopicSpec<TenantBudget> budgets;
    private final TopicSpec<Batch> batches;
    private final TopicSpec<CallbackDelivery> callbacks;
    private final List<TopicSpec<?>> all;

    private TopicCatalog(int partitions, short replicationFactor) {
        if (partitions < 1) {
            throw new ConfigException("topics.partitions", Integer.toString(partitions), "must be at least 1");
        }
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        Map<String, String> week = delete(Duration.ofDays(7));
        // the public intake takes records up to 8 MiB so that an oversized request reaches the router
        // and is dead-lettered with its reason, instead of being refused at the producer
        Map<String, String> intakeConfig = new java.util.HashMap<>(week);
        intakeConfig.put("max.message.bytes", Integer.toString(8 * 1024 * 1024));
        requests = new TopicSpec<>("llm.requests", "request id or null", LlmRequest.class, partitions, intakeConfig,
                "public intake: Avro or JSON requests from any producer, classified by the router");
        for (Priority p : Priority.values()) {
            intake.put(p, new TopicSpec<>("llm.requests." + level(p), "dedup key (tenant + idempotency key, else request id)",
                    LlmRequest.class, partitions, week, "accepted " + level(p) + " requests, before dedup and parking"));
            queues.put(p, new TopicSpec<>("llm.queue." + level(p), "request id", QueuedRequest.class, partitions, week,
                    "shallow " + level(p) + " queue the workers read; written by the router only"));
        }
        events = new TopicSpec<>("llm.events", "request id", RequestEvent.class, partitions,
                delete(Duration.ofDays(3)), "lifecycle events of every request");
        Map<String, String> results7d = new java.util.HashMap<>(delete(Duration.ofDays(7)));
        results7d.put("cleanup.policy", "compact,delete");
        results = new TopicSpec<>("llm.results", "request id", LlmResult.class, partitions, results7d,
                "final outcome of every request");
        usage = new TopicSpec<>("llm.usage", "tenant id", UsageEvent.class, partitions, delete(Duration.ofDays(30)),
                "tokens each completed call consumed");
        billing = new TopicSpec<>("llm.billing", "tenant id", BillingRecord.class, partitions,
                delete(Duration.ofDays(30)), "priced usage, sunk into PostgreSQL");
        dlq = new TopicSpec<>("llm.dlq", "request id", DeadLetter.class, partitions, delete(Duration.ofDays(30)),
                "dead letters with their reason, for inspection and replay");
        Map<String, String> compact = Map.of("cleanup.policy", "compact");
        configPrices = new TopicSpec<>("llm.config.prices", "price row id", ModelPrice.class, 1, compact,
                "model prices streamed from PostgreSQL");
        configTenants = new TopicSpec<>("llm.config.tenants", "tenant id", Tenant.class, 1, compact,
                "tenants streamed from PostgreSQL");
        configApiKeys = new TopicSpec<>("llm.config.api-keys", "key id", ApiKey.class, 1, compact,
                "API key hashes streamed from PostgreSQL");
        budgets = new TopicSpec<>("llm.budgets", "tenant id", TenantBudget.class, partitions, compact,
                "month-to-date spend against each tenant's budget, read at admission");
        batches = new TopicSpec<>("llm.batches", "batch id", Batch.class, partitions, compact,
                "batches submitted over HTTP (tenant, size), written in the transaction of their requests");
        callbacks = new TopicSpec<>("llm.callbacks", "request id", CallbackDelivery.class, partitions,
                delete(Duration.ofDays(7)), "finished requests whose submitter asked for a callback, for ingest-api to POST");
        List<TopicSpec<?>> list = new ArrayList<>();
        list.add(requests);
        list.addAll(intake.values());
        list.addAll(queues.values());
        list.addAll(List.of(events, results, usage, billing, dlq, configPrices, configTenants, configApiKeys, budgets,
                batches, callbacks));
        all = Collections.unmodifiableList(list);
    }

    /** The catalog with default partitions and the broker's default replication. */
    public static TopicCatalog defaults() {
        return new TopicCatalog(DEFAULT_PARTITIONS, (short) -1);
    }

    /** The catalog from {@code topics.partitions} and {@code topics.replication.factor}. */
    public static TopicCatalog from(Settings s) {
        int rf = s.integer("topics.replication.factor", -1);
        if (rf == 0 || rf < -1 || rf > Short.MAX_VALUE) {
            throw new ConfigException("topics.replication.factor", Integer.toString(rf), "must be -1 (broker default) or >= 1");
        }
        return new TopicCatalog(s.integer("topics.partitions", DEFAULT_PARTITIONS), (short) rf);
    }

    /** Topic-name spelling of a level: {@code realtime}, {@code high}, {@code normal}, {@code low}. */
    public static String level(Priority p) {
        return p.name().toLowerCase(Locale.ROOT);
    }

    private static Map<String, String> delete(Duration retention) {
        return Map.of("cleanup.policy", "delete", "retention.ms", Long.toString(retention.toMillis()));
    }

    public int partitions() {
        return partitions;
    }

    /** -1 means the broker's default. */
    public short replicationFactor() {
        return replicationFactor;
    }

    public TopicSpec<LlmRequest> requests() {
        return requests;
    }

    /** {@code llm.requests.<priority>}. */
    public TopicSpec<LlmRequest> intake(Priority p) {
        return intake.get(p);
    }

    /** {@code llm.queue.<priority>}. */
    public TopicSpec<QueuedRequest> queue(Priority p) {
        return queues.get(p);
    }

    public TopicSpec<RequestEvent> events() {
        return events;
    }

    public TopicSpec<LlmResult> results() {
        return results;
    }

    public TopicSpec<UsageEvent> usage() {
        return usage;
    }

    public TopicSpec<BillingRecord> billing() {
        return billing;
    }

    public TopicSpec<DeadLetter> dlq() {
        return dlq;
    }

    public TopicSpec<ModelPrice> configPrices() {
        return configPrices;
    }

    public TopicSpec<Tenant> configTenants() {
        return configTenants;
    }

    public TopicSpec<ApiKey> configApiKeys() {
        return configApiKeys;
    }

    public TopicSpec<TenantBudget> budgets() {
        return budgets;
    }

    /** {@code llm.batches}: batch metadata, keyed by batch id (compacted). */
    public TopicSpec<Batch> batches() {
        return batches;
    }

    /** {@code llm.callbacks}: completion callbacks due, keyed by request id. */
    public TopicSpec<CallbackDelivery> callbacks() {
        return callbacks;
    }

    /** Every topic, in a stable order. */
    public List<TopicSpec<?>> all() {
        return all;
    }

    /** The topic called {@code name}, if llmq declares one. */
    public java.util.Optional<TopicSpec<?>> byName(String name) {
        return all.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
