package llmq.billing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of billing-stream. Keys and defaults:
 *
 * <ul>
 *   <li>{@code billing.application-id} ({@code llmq-billing}): Streams application id; never change in place.</li>
 *   <li>{@code billing.state-dir} ({@code ./llmq-data/billing}): RocksDB stores.</li>
 *   <li>{@code billing.commit-interval} ({@code 100ms}): exactly-once commit interval.</li>
 *   <li>{@code billing.threads} ({@code 1}).</li>
 *   <li>{@code billing.dedup.window} ({@code 8d}): how long a request id is remembered as billed
 *       (at least the 7-day retention of the topics a replay could come from).</li>
 *   <li>{@code billing.sink.group-id} ({@code llmq-billing-sink}), {@code billing.sink.batch-size} ({@code 500}).</li>
 *   <li>{@code billing.prices.poll-interval} ({@code 5s}): how often the price table is copied to
 *       {@code llm.config.prices} (until Debezium CDC streams it).</li>
 *   <li>{@code billing.admin.host}/{@code billing.admin.port} ({@code 127.0.0.1}/{@code 8084}).</li>
 *   <li>{@code billing.streams.*}: raw Kafka Streams overrides.</li>
 * </ul>
 */
public record BillingConfig(String applicationId, Path stateDir, Duration commitInterval, int threads,
                            Duration dedupWindow, String sinkGroupId, int sinkBatchSize, Duration pricesPollInterval,
                            String adminHost, int adminPort, Map<String, String> streamsOverrides) {

    public BillingConfig {
        if (dedupWindow.compareTo(Duration.ofDays(7)) < 0) {
            throw new ConfigException("billing.dedup.window", dedupWindow.toString(),
                    "must be at least 7d so that replays within topic retention are never billed twice");
        }
        if (sinkBatchSize < 1) {
            throw new ConfigException("billing.sink.batch-size", Integer.toString(sinkBatchSize), "must be at least 1");
        }
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    public static BillingConfig from(Settings s) {
        return new BillingConfig(
                s.string("billing.application-id", "llmq-billing"),
                Path.of(s.string("billing.state-dir", "llmq-data/billing")),
                s.duration("billing.commit-interval", Duration.ofMillis(100)),
                s.integer("billing.threads", 1),
                s.duration("billing.dedup.window", Duration.ofDays(8)),
                s.string("billing.sink.group-id", "llmq-billing-sink"),
                s.integer("billing.sink.batch-size", 500),
                s.duration("billing.prices.poll-interval", Duration.ofSeconds(5)),
                s.string("billing.admin.host", "127.0.0.1"),
                s.integer("billing.admin.port", 8084),
                StreamsSettings.overrides(s, "billing"));
    }
}
