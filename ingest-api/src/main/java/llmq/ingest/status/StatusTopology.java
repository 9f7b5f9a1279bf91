package llmq.ingest.status;

import java.time.Duration;
import java.util.Properties;
import llmq.avro.Batch;
import llmq.avro.CallbackDelivery;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.BatchMember;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.ingest.submit.Submitter;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * ingest-api's status view, a Kafka Streams app every ingest instance runs (one application id, so
 * the instances share the partitions):
 *
 * <ul>
 *   <li>folds {@code llm.events} (key: request id, value {@code RequestEvent}) into {@value #STATUS_STORE}
 *       (request id → {@code RequestStatus});</li>
 *   <li>materializes {@code llm.results} (key: request id, value {@code LlmResult}) as {@value #RESULTS_STORE},
 *       reusing the compacted results topic as its changelog;</li>
 *   <li>indexes every ACCEPTED event with an idempotency key by its dedup key ({@code tenant:key}), through the
 *       repartition topic {@code <app id>-idempotency-by-key-repartition}, into {@value #IDEMPOTENCY_STORE}
 *       (first acceptance wins; entries older than the idempotency window are purged);</li>
 *   <li>keeps, for each request of a batch, its state and whether its result is in, in {@value #BATCH_MEMBERS_STORE}
 *       (key {@code batch id|request id}, in the partition of the request: a prefix scan per instance);</li>
 *   <li>when a request with a {@code callback_url} has its result, writes a {@code CallbackDelivery} to
 *       {@code llm.callbacks} (key: request id) once, remembered in {@value #CALLBACKS_SENT_STORE};</li>
 *   <li>reads {@code llm.batches} (key: batch id, value {@code Batch}) into the global store {@value #BATCHES_STORE}.</li>
 * </ul>
 * The fold's transitions are reported to {@link QueueStats} for {@code GET /v1/queues}.
 */
public final class StatusTopology {

    public static final String STATUS_STORE = "ingest-request-status";
    public static final String RESULTS_STORE = "ingest-request-results";
    public static final String IDEMPOTENCY_STORE = "ingest-idempotency-keys";
    public static final String BATCH_MEMBERS_STORE = "ingest-batch-members";
    public static final String CALLBACKS_SENT_STORE = "ingest-callbacks-sent";
    public static final String BATCHES_STORE = "ingest-batches";
    /** Name of the repartition of ACCEPTED events by dedup key. */
    public static final String IDEMPOTENCY_REPARTITION = "idempotency-by-key";

    private StatusTopology() {
    }

    /** Topology properties the app must also run with (source-topic reuse for the results table). */
    public static Properties optimizations() {
        Properties p = new Properties();
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        return p;
    }

    /** With a 24 h idempotency window and no queue statistics. */
    public static Topology build(TopicCatalog catalog, TopicSerdes serdes) {
        return build(catalog, serdes, Duration.ofHours(24), null);
    }

    public static Topology build(TopicCatalog catalog, TopicSerdes serdes, Duration idempotencyWindow, QueueStats stats) {
        StreamsBuilder b = new StreamsBuilder();
        var eventSerde = serdes.value(RequestEvent.class);
        var statusSerde = serdes.value(RequestStatus.class);
        var resultSerde = serdes.value(LlmResult.class);

        KTable<String, LlmResult> results = b.table(catalog.results().name(),
                Consumed.with(Serdes.String(), resultSerde).withName("results-source"),
                Materialized.<String, LlmResult, KeyValueStore<Bytes, byte[]>>as(RESULTS_STORE)
                        .withKeySerde(Serdes.String()).withValueSerde(resultSerde));
        KStream<String, RequestEvent> events = b.stream(catalog.events().name(),
                Consumed.with(Serdes.String(), eventSerde).withName("events-source"));
        KTable<String, RequestStatus> status = events
                .groupByKey(Grouped.with("events-by-request", Serdes.String(), eventSerde))
                .aggregate(() -> null, (id, event, before) -> {
                            RequestStatus after = StatusFold.apply(before, event);
                            if (stats != null) {
                                stats.observe(before, after, event);
                            }
                            return after;
                        },
                        Named.as("status-fold"),
                        Materialized.<String, RequestStatus, KeyValueStore<Bytes, byte[]>>as(STATUS_STORE)
                                .withKeySerde(Serdes.String()).withValueSerde(statusSerde));

        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BATCH_MEMBERS_STORE),
                Serdes.String(), serdes.value(BatchMember.class)));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CALLBACKS_SENT_STORE),
                Serdes.String(), Serdes.Long()));
        Produced<String, CallbackDelivery> toCallbacks = Produced.with(Serdes.String(),
                serdes.value(CallbackDelivery.class));
        results.toStream(Named.as("result-changes"))
                .process(() -> new Followups<LlmResult>(true), Named.as("result-followups"),
                        STATUS_STORE, BATCH_MEMBERS_STORE, CALLBACKS_SENT_STORE)
                .to(catalog.callbacks().name(), toCallbacks.withName("result-callbacks-sink"));
        status.toStream(Named.as("status-changes"))
                .process(() -> new Followups<RequestStatus>(false), Named.as("status-followups"),
                        RESULTS_STORE, BATCH_MEMBERS_STORE, CALLBACKS_SENT_STORE)
                .to(catalog.callbacks().name(), toCallbacks.withName("status-callbacks-sink"));

        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(IDEMPOTENCY_STORE),
                Serdes.String(), eventSerde));
        events.filter((id, e) -> e != null && e.getType() == EventType.ACCEPTED && e.getIdempotencyKey() != null,
                        Named.as("accepted-with-idempotency-key"))
                .selectKey((id, e) -> Submitter.dedupKey(e.getTenantId(), e.getIdempotencyKey()), Named.as("by-dedup-key"))
                .repartition(Repartitioned.<String, RequestEvent>as(IDEMPOTENCY_REPARTITION)
                        .withKeySerde(Serdes.String()).withValueSerde(eventSerde))
                .process(() -> new IdempotencyIndex(idempotencyWindow), Named.as("idempotency-index"), IDEMPOTENCY_STORE);

        b.globalTable(catalog.batches().name(),
                Consumed.with(Serdes.String(), serdes.value(Batch.class)).withName("batches-source"),
                Materialized.<String, Batch, KeyValueStore<Bytes, byte[]>>as(BATCHES_STORE)
                        .withKeySerde(Serdes.String()).withValueSerde(serdes.value(Batch.class)));
        return b.build(optimizations());
    }

    /** The key of a batch member: {@code batch id|request id} (a prefix scan by {@code batch id|} lists a batch). */
    public static String memberKey(String batchId, String requestId) {
        return batchId + "|" + requestId;
    }
}
