package llmq.router.topology;

import java.util.EnumMap;
import java.util.Map;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.router.RouterConfig;
import llmq.router.dedup.DedupProcessor;
import llmq.router.internal.avro.DedupEntry;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The priority-router's topology.
 *
 * <p>Input: {@code llm.requests.<priority>} (key: dedup key, value: {@code LlmRequest}).
 * Output: {@code llm.queue.<priority>} (key: request id, value: {@code QueuedRequest}),
 * {@code llm.events} (key: request id, value: {@code RequestEvent}: RELEASED, DEDUPLICATED) and
 * {@code llm.dlq} (key: request id, value: {@code DeadLetter}) for records that are not valid
 * requests. State: {@value #DEDUP_STORE} (dedup key → first request id and time).
 */
public final class RouterTopology {

    /** Dedup key → the request it first admitted. */
    public static final String DEDUP_STORE = "router-dedup";
    public static final String DEDUP_PROCESSOR = "dedup";
    public static final String QUEUE_SINK = "queue-sink";
    public static final String EVENTS_SINK = "events-sink";
    public static final String DLQ_SINK = "dlq-sink";

    private RouterTopology() {
    }

    /** Builds the topology; creates no Streams instance and touches no broker. */
    public static Topology build(RouterConfig config, TopicCatalog catalog, TopicSerdes serdes) {
        Topology t = new Topology();
        Map<String, Priority> levelByTopic = new java.util.HashMap<>();
        String[] sources = new String[Priority.values().length];
        int i = 0;
        for (Priority p : Priority.values()) {
            String name = "intake-" + TopicCatalog.level(p);
            sources[i++] = name;
            levelByTopic.put(catalog.intake(p).name(), p);
            t.addSource(name, serdes.key().deserializer(), serdes.value(LlmRequest.class).deserializer(),
                    catalog.intake(p).name());
        }
        t.addProcessor(DEDUP_PROCESSOR, () -> new DedupProcessor(config.dedupWindow(), config.dedupPurgeInterval(),
                Map.copyOf(levelByTopic)), sources);
        StoreBuilder<KeyValueStore<String, DedupEntry>> dedup = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(DEDUP_STORE), Serdes.String(), serdes.value(DedupEntry.class));
        t.addStateStore(dedup, DEDUP_PROCESSOR);

        Map<Priority, String> queueTopics = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            queueTopics.put(p, catalog.queue(p).name());
        }
        t.addSink(QUEUE_SINK, (key, value, ctx) -> queueTopics.get(((QueuedRequest) value).getPriority()),
                serdes.key().serializer(), serdes.value(QueuedRequest.class).serializer(), DEDUP_PROCESSOR);
        t.addSink(EVENTS_SINK, catalog.events().name(), serdes.key().serializer(),
                serdes.value(RequestEvent.class).serializer(), DEDUP_PROCESSOR);
        t.addSink(DLQ_SINK, catalog.dlq().name(), serdes.key().serializer(),
                serdes.value(DeadLetter.class).serializer(), DEDUP_PROCESSOR);
        return t;
    }
}
