package llmq.router;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of the priority-router. Every key, its default and why:
 *
 * <ul>
 *   <li>{@code router.application-id} ({@code llmq-priority-router}): Streams application id;
 *       names the consumer group and internal topics, so never change it on a running system.</li>
 *   <li>{@code router.state-dir} ({@code ./llmq-data/router}): RocksDB stores; restored from
 *       their changelogs when lost.</li>
 *   <li>{@code router.commit-interval} ({@code 20ms}): under exactly-once the floor on queueing
 *       latency; lower costs throughput (see docs/benchmarks.md).</li>
 *   <li>{@code router.threads} ({@code 1}): stream threads of this instance.</li>
 *   <li>{@code router.dedup.window} ({@code 24h}): how long a dedup key suppresses duplicates.</li>
 *   <li>{@code router.dedup.purge-interval} ({@code 1m}): how often expired keys are removed.</li>
 *   <li>{@code router.admin.host}/{@code router.admin.port} ({@code 127.0.0.1}/{@code 8082}): health and metrics.</li>
 *   <li>{@code router.streams.*}: raw Kafka Streams overrides.</li>
 * </ul>
 */
public record RouterConfig(String applicationId, Path stateDir, Duration commitInterval, int threads,
                           Duration dedupWindow, Duration dedupPurgeInterval, String adminHost, int adminPort,
                           Map<String, String> streamsOverrides) {

    public RouterConfig {
        if (commitInterval.isZero() || commitInterval.isNegative()) {
            throw new ConfigException("router.commit-interval", commitInterval.toString(), "must be positive");
        }
        if (threads < 1) {
            throw new ConfigException("router.threads", Integer.toString(threads), "must be at least 1");
        }
        if (dedupWindow.isNegative()) {
            throw new ConfigException("router.dedup.window", dedupWindow.toString(), "must not be negative");
        }
        if (dedupPurgeInterval.isZero() || dedupPurgeInterval.isNegative()) {
            throw new ConfigException("router.dedup.purge-interval", dedupPurgeInterval.toString(), "must be positive");
        }
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    public static RouterConfig from(Settings s) {
        return new RouterConfig(
                s.string("router.application-id", "llmq-priority-router"),
                Path.of(s.string("router.state-dir", "llmq-data/router")),
                s.duration("router.commit-interval", Duration.ofMillis(20)),
                s.integer("router.threads", 1),
                s.duration("router.dedup.window", Duration.ofHours(24)),
                s.duration("router.dedup.purge-interval", Duration.ofMinutes(1)),
                s.string("router.admin.host", "127.0.0.1"),
                s.integer("router.admin.port", 8082),
                StreamsSettings.overrides(s, "router"));
    }

    /** Defaults, for tests. */
    public static RouterConfig defaults() {
        return from(Settings.of(Map.of()));
    }
}
