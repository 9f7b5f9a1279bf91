package llmq.worker;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import llmq.avro.Priority;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.endpoints.PoolConfig;
import llmq.worker.retry.RetryPolicy;

/**
 * Settings of a worker, bound once and validated at start-up. Keys and defaults (the endpoint
 * pool's in {@link PoolConfig}, retries in {@link RetryPolicy.Config}; all in docs/worker.md):
 *
 * <ul>
 *   <li>{@code worker.group-id} ({@code llmq-worker}): consumer group shared by all workers.</li>
 *   <li>{@code worker.id} (host name and pid): shown in events and logs, and part of the transactional id
 *       {@code llmq-worker-<group>-<id>}; give each worker a stable, unique id (e.g. its pod name) so that a
 *       restarted worker aborts its predecessor's open transaction at once instead of after the timeout.</li>
 *   <li>{@code worker.transaction.timeout} ({@code 10s}): how long the broker keeps a dead worker's open
 *       outcome transaction before aborting it; read-committed readers of its partitions wait that long.</li>
 *   <li>{@code worker.max-in-flight} ({@code 64}): concurrent model calls of this worker.</li>
 *   <li>{@code worker.weights.<level>} (realtime 8, high 4, normal 2, low 1): weighted fair share across levels.</li>
 *   <li>{@code worker.buffer.per-level} ({@code max-in-flight}, at least 16): records taken ahead per level; a
 *       level's partitions are paused while its buffer holds this many.</li>
 *   <li>{@code worker.shutdown-grace} ({@code 30s}): on SIGTERM, how long in-flight calls may finish.</li>
 *   <li>{@code worker.commit.interval} ({@code 50ms}): least time between offset commits.</li>
 *   <li>{@code worker.commit.metadata-max-chars} ({@code 2048}): room in the commit metadata for finished
 *       offsets beyond the commit point (0: off; keep below the broker's {@code offset.metadata.max.bytes}).</li>
 *   <li>{@code worker.registry-backoff.max} ({@code 5s}): longest pause of a partition waiting for the registry.</li>
 *   <li>{@code worker.admin.host}/{@code worker.admin.port} ({@code 127.0.0.1}/{@code 8083}): health, metrics.</li>
 * </ul>
 */
public record WorkerConfig(String groupId, String workerId, int maxInFlight, Map<Priority, Integer> weights,
                           int bufferPerLevel, Duration shutdownGrace, Duration commitInterval,
                           int commitMetadataMaxChars, Duration registryBackoffMax, Duration transactionTimeout,
                           String adminHost, int adminPort, PoolConfig pool, RetryPolicy.Config retry) {

    /** Default weights of the levels. */
    public static final Map<Priority, Integer> DEFAULT_WEIGHTS =
            Map.of(Priority.REALTIME, 8, Priority.HIGH, 4, Priority.NORMAL, 2, Priority.LOW, 1);

    public WorkerConfig {
        if (maxInFlight < 1) {
            throw new ConfigException("worker.max-in-flight", Integer.toString(maxInFlight), "must be at least 1");
        }
        if (bufferPerLevel < 1) {
            throw new ConfigException("worker.buffer.per-level", Integer.toString(bufferPerLevel), "must be at least 1");
        }
        if (commitMetadataMaxChars < 0 || commitMetadataMaxChars > 1_000_000) {
            throw new ConfigException("worker.commit.metadata-max-chars", Integer.toString(commitMetadataMaxChars),
                    "must be between 0 and 1000000");
        }
        if (shutdownGrace.isNegative()) {
            throw new ConfigException("worker.shutdown-grace", shutdownGrace.toString(), "must not be negative");
        }
        if (transactionTimeout.toMillis() < 1_000 || transactionTimeout.toMillis() > 900_000) {
            // the upper bound is the broker's default transaction.max.timeout.ms
            throw new ConfigException("worker.transaction.timeout", transactionTimeout.toString(),
                    "must be between 1s and 15m");
        }
        if (registryBackoffMax.toMillis() < 100) {
            throw new ConfigException("worker.registry-backoff.max", registryBackoffMax.toString(), "must be at least 100ms");
        }
        weights = Map.copyOf(weights);
    }

    public static WorkerConfig from(Settings s) {
        String defaultId = hostName() + "-" + ProcessHandle.current().pid();
        int maxInFlight = s.integer("worker.max-in-flight", 64);
        Map<Priority, Integer> weights = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            String key = "worker.weights." + TopicCatalog.level(p);
            int w = s.integer(key, DEFAULT_WEIGHTS.get(p));
            if (w < 1) {
                throw new ConfigException(key, Integer.toString(w), "must be at least 1");
            }
            weights.put(p, w);
        }
        return new WorkerConfig(
                s.string("worker.group-id", "llmq-worker"),
                s.string("worker.id", defaultId),
                maxInFlight,
                weights,
                s.integer("worker.buffer.per-level", Math.max(16, maxInFlight)),
                s.duration("worker.shutdown-grace", Duration.ofSeconds(30)),
                s.duration("worker.commit.interval", Duration.ofMillis(50)),
                s.integer("worker.commit.metadata-max-chars", 2048),
                s.duration("worker.registry-backoff.max", Duration.ofSeconds(5)),
                s.duration("worker.transaction.timeout", Duration.ofSeconds(10)),
                s.string("worker.admin.host", "127.0.0.1"),
                s.integer("worker.admin.port", 8083),
                PoolConfig.from(s, System.getenv()),
                RetryPolicy.Config.from(s));
    }

    /** The producer's transactional id: one per worker of a group, the same after a restart. */
    public String transactionalId() {
        return "llmq-worker-" + groupId + "-" + workerId;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "worker";
        }
    }

    @Override
    public String toString() {
        return "WorkerConfig[group=" + groupId + ", id=" + workerId + ", maxInFlight=" + maxInFlight
                + ", weights=" + weights + ", bufferPerLevel=" + bufferPerLevel + ", endpoints=" + pool.endpoints()
                + ", balancing=" + pool.balancing() + "]";
    }
}
