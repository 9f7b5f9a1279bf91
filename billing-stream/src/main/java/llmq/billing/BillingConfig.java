package llmq.billing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import llmq.billing.topology.BillingTopology;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of billing-stream (change data capture has its own: {@link llmq.billing.cdc.CdcConfig}).
 * Keys and defaults:
 *
 * <ul>
 *   <li>{@code billing.application-id} ({@code llmq-billing}): Streams application id; never change in place.</li>
 *   <li>{@code billing.state-dir} ({@code ./llmq-data/billing}): RocksDB stores.</li>
 *   <li>{@code billing.commit-interval} ({@code 100ms}): exactly-once commit interval.</li>
 *   <li>{@code billing.threads} ({@code 1}).</li>
 *   <li>{@code billing.dedup.window} ({@code 8d}): how long a request id is remembered as billed, in
 *       usage time (at least 7 days, so a replay within topic retention is never billed twice).</li>
 *   <li>{@code billing.aggregates.grace} ({@code 2h}): how late usage may arrive after its hour or
 *       day closed and still count in that aggregate.</li>
 *   <li>{@code billing.aggregates.hourly-retention} ({@code 35d}), {@code billing.aggregates.daily-retention}
 *       ({@code 400d}): how long aggregates stay queryable over HTTP.</li>
 *   <li>{@code billing.aggregates.topic} ({@code llmq.billing.usage-aggregates}): compacted topic of the
 *       aggregates' current values, created at start if missing, read by the sink.</li>
 *   <li>{@code billing.budgets.currency} ({@code USD}): currency of tenants' monthly budgets.</li>
 *   <li>{@code billing.budgets.publish-interval} ({@code 1s}): how often changed month-to-date spend and
 *       budgets are published to {@code llm.budgets} (crossing a budget is published at once).</li>
 *   <li>{@code billing.sink.group-id} ({@code llmq-billing-sink}), {@code billing.sink.batch-size} ({@code 500}).</li>
 *   <li>{@code billing.admin.host}/{@code billing.admin.port} ({@code 127.0.0.1}/{@code 8084}): health,
 *       metrics and the usage query API.</li>
 *   <li>{@code billing.admin.advertised-host} (the admin host): how other instances reach this one's
 *       usage queries (Streams {@code application.server}).</li>
 *   <li>{@code billing.streams.*}: raw Kafka Streams overrides.</li>
 * </ul>
 */
public record BillingConfig(String applicationId, Path stateDir, Duration commitInterval, int threads,
                            Duration dedupWindow, Duration grace, Duration hourlyRetention, Duration dailyRetention,
                            String aggregatesTopic, String budgetCurrency, Duration budgetPublishInterval,
                            String sinkGroupId, int sinkBatchSize, String adminHost, int adminPort,
                            String advertisedHost, Map<String, String> streamsOverrides) {

    public BillingConfig {
        if (dedupWindow.compareTo(Duration.ofDays(7)) < 0) {
            throw new ConfigException("billing.dedup.window", dedupWindow.toString(),
                    "must be at least 7d so that replays within topic retention are never billed twice");
        }
        if (hourlyRetention.compareTo(Duration.ofHours(1).plus(grace)) < 0) {
            throw new ConfigException("billing.aggregates.hourly-retention", hourlyRetention.toString(),
                    "must be at least 1h plus billing.aggregates.grace");
        }
        if (dailyRetention.compareTo(Duration.ofDays(1).plus(grace)) < 0) {
            throw new ConfigException("billing.aggregates.daily-retention", dailyRetention.toString(),
                    "must be at least 1d plus billing.aggregates.grace");
        }
        if (!budgetCurrency.matches("[A-Z]{3}")) {
            throw new ConfigException("billing.budgets.currency", budgetCurrency, "must be a 3-letter ISO currency code");
        }
        if (budgetPublishInterval.toMillis() < 10) {
            throw new ConfigException("billing.budgets.publish-interval", budgetPublishInterval.toString(),
                    "must be at least 10ms");
        }
        if (sinkBatchSize < 1) {
            throw new ConfigException("billing.sink.batch-size", Integer.toString(sinkBatchSize), "must be at least 1");
        }
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    public static BillingConfig from(Settings s) {
        String adminHost = s.string("billing.admin.host", "127.0.0.1");
        return new BillingConfig(
                s.string("billing.application-id", "llmq-billing"),
                Path.of(s.string("billing.state-dir", "llmq-data/billing")),
                s.duration("billing.commit-interval", Duration.ofMillis(100)),
                s.integer("billing.threads", 1),
                s.duration("billing.dedup.window", Duration.ofDays(8)),
                s.duration("billing.aggregates.grace", Duration.ofHours(2)),
                s.duration("billing.aggregates.hourly-retention", Duration.ofDays(35)),
                s.duration("billing.aggregates.daily-retention", Duration.ofDays(400)),
                s.string("billing.aggregates.topic", "llmq.billing.usage-aggregates"),
                s.string("billing.budgets.currency", "USD"),
                s.duration("billing.budgets.publish-interval", Duration.ofSeconds(1)),
                s.string("billing.sink.group-id", "llmq-billing-sink"),
                s.integer("billing.sink.batch-size", 500),
                adminHost,
                s.integer("billing.admin.port", 8084),
                s.string("billing.admin.advertised-host", "0.0.0.0".equals(adminHost) ? "localhost" : adminHost),
                StreamsSettings.overrides(s, "billing"));
    }

    /** What the topology needs. */
    public BillingTopology.Config topology() {
        return new BillingTopology.Config(dedupWindow, grace, hourlyRetention, dailyRetention, budgetCurrency,
                budgetPublishInterval, aggregatesTopic);
    }
}
