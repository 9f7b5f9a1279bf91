package llmq.ingest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.streams.StreamsSettings;

/**
 * Settings of ingest-api. Keys and defaults:
 *
 * <ul>
 *   <li>{@code ingest.host} ({@code 127.0.0.1}), {@code ingest.port} ({@code 8080}).</li>
 *   <li>{@code ingest.public-url} (none): base URL put in {@code status_url}; by default taken
 *       from the request's {@code Host} header.</li>
 *   <li>{@code ingest.kafka-timeout} ({@code 5s}): how long a submission may wait for Kafka's
 *       acknowledgement before the client gets 503 with {@code Retry-After}.</li>
 *   <li>{@code ingest.max-body} ({@code 1048576}): largest request body in bytes (413 above).</li>
 *   <li>{@code ingest.max-messages} ({@code 1000}), {@code ingest.max-metadata} ({@code 50}).</li>
 *   <li>Tenants, API key hashes and budgets come from {@code llm.config.tenants}, {@code llm.config.api-keys}
 *       and {@code llm.budgets} (streamed by billing-stream), so ingest needs no database.</li>
 *   <li>{@code ingest.status.application-id} ({@code llmq-ingest-status}), {@code ingest.status.state-dir}
 *       ({@code ./llmq-data/ingest-status}): the Streams app folding events and results into the status store.</li>
 *   <li>{@code ingest.streams.*}: raw Kafka Streams overrides of the status app.</li>
 * </ul>
 */
public record IngestConfig(String host, int port, String publicUrl, Duration kafkaTimeout, int maxBody, int maxMessages,
                           int maxMetadata, String statusApplicationId, Path statusStateDir,
                           Map<String, String> streamsOverrides) {

    public IngestConfig {
        if (kafkaTimeout.toMillis() < 100) {
            throw new ConfigException("ingest.kafka-timeout", kafkaTimeout.toString(), "must be at least 100ms");
        }
        if (maxBody < 1024) {
            throw new ConfigException("ingest.max-body", Integer.toString(maxBody), "must be at least 1024 bytes");
        }
        streamsOverrides = Map.copyOf(streamsOverrides);
    }

    public static IngestConfig from(Settings s) {
        return new IngestConfig(
                s.string("ingest.host", "127.0.0.1"),
                s.integer("ingest.port", 8080),
                s.string("ingest.public-url", null),
                s.duration("ingest.kafka-timeout", Duration.ofSeconds(5)),
                s.integer("ingest.max-body", 1_048_576),
                s.integer("ingest.max-messages", 1000),
                s.integer("ingest.max-metadata", 50),
                s.string("ingest.status.application-id", "llmq-ingest-status"),
                Path.of(s.string("ingest.status.state-dir", "llmq-data/ingest-status")),
                StreamsSettings.overrides(s, "ingest"));
    }
}
