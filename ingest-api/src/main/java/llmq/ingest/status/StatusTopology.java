package llmq.ingest.status;

import java.util.Properties;
import llmq.avro.LlmResult;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * ingest-api's status view: folds {@code llm.events} (key: request id, value:
 * {@code RequestEvent}) into {@value #STATUS_STORE} (request id → {@code RequestStatus}) and
 * materializes {@code llm.results} (key: request id, value: {@code LlmResult}) as
 * {@value #RESULTS_STORE}, reusing the compacted results topic as its changelog. Both stores
 * are co-partitioned by request id and queried by {@code GET /v1/requests/{id}}. Writes no topic.
 */
public final class StatusTopology {

    public static final String STATUS_STORE = "ingest-request-status";
    public static final String RESULTS_STORE = "ingest-request-results";

    private StatusTopology() {
    }

    /** Topology properties the app must also run with (source-topic reuse for the results table). */
    public static Properties optimizations() {
        Properties p = new Properties();
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        return p;
    }

    public static Topology build(TopicCatalog catalog, TopicSerdes serdes) {
        StreamsBuilder b = new StreamsBuilder();
        b.table(catalog.results().name(),
                Consumed.with(Serdes.String(), serdes.value(LlmResult.class)).withName("results-source"),
                Materialized.<String, LlmResult, KeyValueStore<Bytes, byte[]>>as(RESULTS_STORE)
                        .withKeySerde(Serdes.String()).withValueSerde(serdes.value(LlmResult.class)));
        b.stream(catalog.events().name(),
                        Consumed.with(Serdes.String(), serdes.value(RequestEvent.class)).withName("events-source"))
                .groupByKey(Grouped.with("events-by-request", Serdes.String(), serdes.value(RequestEvent.class)))
                .aggregate(() -> null, (id, event, status) -> StatusFold.apply(status, event),
                        Named.as("status-fold"),
                        Materialized.<String, RequestStatus, KeyValueStore<Bytes, byte[]>>as(STATUS_STORE)
                                .withKeySerde(Serdes.String()).withValueSerde(serdes.value(RequestStatus.class)));
        return b.build(optimizations());
    }
}
