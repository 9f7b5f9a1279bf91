package llmq.topics.streams;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka Streams properties every llmq Streams app shares: exactly-once v2, replication
 * from the broker's default, the dead-letter deserialization handler, and no default serdes
 * (every node declares its own). Per-app overrides come from {@code <prefix>.streams.*}.
 */
public final class StreamsSettings {

    /** Config key carrying the schema-registry URL to llmq's Streams handlers. */
    public static final String REGISTRY_URL = "llmq.registry.url";
    /** Config key that may carry a registry client instance instead of a URL (topology tests). */
    public static final String REGISTRY_CLIENT = "llmq.registry.client";
    /** Config key naming the stage recorded in dead letters (router, billing, ...). */
    public static final String DLQ_STAGE = "llmq.dlq.stage";

    private StreamsSettings() {
    }

    /**
     * Streams properties for one app.
     *
     * @param kafka          connection
     * @param applicationId  consumer group and prefix of internal topics; never change it in place
     * @param stateDir       where RocksDB stores live
     * @param commitInterval under exactly-once, the floor on end-to-end latency
     * @param threads        stream threads
     * @param stage          name recorded in dead letters
     * @param overrides      {@code <prefix>.streams.*} settings, applied last
     */
    public static Map<String, Object> build(KafkaConfig kafka, String applicationId, Path stateDir,
                                            Duration commitInterval, int threads, String stage,
                                            Map<String, String> overrides) {
        Map<String, Object> p = new HashMap<>(kafka.common(applicationId));
        p.remove("client.id");
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // the global (price) thread routes its errors through the same handlers as the others
        p.put("processing.exception.handler.global.enabled", true);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 50);
        p.put(REGISTRY_URL, kafka.registryUrl());
        p.put(DLQ_STAGE, stage);
        p.putAll(overrides);
        return p;
    }

    /** The {@code <prefix>.streams.*} overrides of {@code settings}. */
    public static Map<String, String> overrides(Settings settings, String prefix) {
        return settings.withPrefix(prefix + ".streams");
    }
}
