package llmq.router.topology;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.Tenant;
import llmq.avro.router.RouterEntry;
import llmq.router.RouterConfig;
import llmq.router.classify.ClassifyProcessor;
import llmq.topics.streams.GlobalTableUpdater;
import llmq.router.dedup.DedupProcessor;
import llmq.router.internal.avro.DedupEntry;
import llmq.router.schedule.CostEstimator;
import llmq.router.schedule.SchedulerProcessor;
import llmq.router.view.RouterMetrics;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The priority-router's topology: three stages, each keyed as its state needs.
 *
 * <ol>
 *   <li><b>Classify</b> {@code llm.requests} (key: request id or null; value: Avro or JSON bytes)
 *       into {@code llm.requests.<priority>} (key: dedup key, value: {@code LlmRequest}) plus an
 *       ACCEPTED event; invalid records to {@code llm.dlq}. Uses the global store
 *       {@value #TENANTS_STORE} over {@code llm.config.tenants}.</li>
 *   <li><b>Dedup</b> {@code llm.requests.<priority>} (key: dedup key) in {@code router-dedup}:
 *       duplicates become DEDUPLICATED events on {@code llm.events}. A request whose dedup key is
 *       its request id (no idempotency key) is already in its request id's partition and goes
 *       straight to the scheduler in the same task; one with an idempotency key is re-keyed by
 *       request id through the repartition topic {@value #ADMITTED_REPARTITION}.</li>
 *   <li><b>Schedule</b> the admitted requests together with {@code llm.events} (both keyed by
 *       request id, so a request's STARTED, RETRY_SCHEDULED, COMPLETED and CANCEL_REQUESTED
 *       events reach the task that holds it): park, age, release by tenant share into
 *       {@code llm.queue.<priority>} (key: request id, value: {@code QueuedRequest}), with
 *       PARKED, PROMOTED, RELEASED, EXPIRED, CANCELLED, CANCEL_REJECTED events and expired or
 *       cancelled results on {@code llm.results}. State: {@code router-requests}, {@code router-vtc}.</li>
 * </ol>
 * Every store, processor, branch and the repartition topic is named, so upgrades keep state.
 */
public final class RouterTopology {

    /** Global store of {@code llm.config.tenants}. */
    public static final String TENANTS_STORE = "router-tenants";
    /** Repartition topic (prefixed by the application id) carrying admitted requests by request id. */
    public static final String ADMITTED_REPARTITION = "router-admitted";

    /** Events the scheduler acts on; it ignores the rest of {@code llm.events} (mostly its own). */
    private static final Set<EventType> SCHEDULER_EVENTS = Set.of(EventType.STARTED, EventType.RETRY_SCHEDULED,
            EventType.COMPLETED, EventType.FAILED, EventType.DEAD_LETTERED, EventType.EXPIRED, EventType.CANCEL_REQUESTED);

    private RouterTopology() {
    }

    /** Builds the topology; creates no Streams instance and touches no broker. */
    public static Topology build(RouterConfig config, TopicCatalog catalog, TopicSerdes serdes, RouterMetrics metrics) {
        StreamsBuilder b = new StreamsBuilder();
        b.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(TENANTS_STORE),
                        Serdes.String(), serdes.value(Tenant.class)).withLoggingDisabled(),
                catalog.configTenants().name(),
                Consumed.with(Serdes.String(), serdes.value(Tenant.class)).withName("tenants-source"),
                () -> new GlobalTableUpdater<Tenant>(TENANTS_STORE));

        // 1. classify the public topic
        KStream<String, Routed> classified = b
                .stream(catalog.requests().name(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("requests-source"))
                .process(() -> new ClassifyProcessor(config.classify(), serdes.value(LlmRequest.class), TENANTS_STORE, metrics),
                        Named.as("classify"));
        classified.split(Named.as("classified-"))
                .branch((k, v) -> v instanceof Routed.Intake, Branched.withConsumer(s -> s
                        .mapValues(v -> ((Routed.Intake) v).request(), Named.as("intake-value"))
                        .to((k, v, ctx) -> catalog.intake(v.getPriority()).name(),
                                Produced.with(Serdes.String(), serdes.value(LlmRequest.class)).withName("intake-sink")), "intake"))
                .branch((k, v) -> v instanceof Routed.Event, Branched.withConsumer(s -> events(s, catalog, serdes, "classify"), "events"))
                .branch((k, v) -> v instanceof Routed.Dead, Branched.withConsumer(s -> dead(s, catalog, serdes, "classify"), "dlq"));

        // 2. dedup by dedup key, then re-key by request id
        List<String> intake = new ArrayList<>();
        Map<String, Priority> levelByTopic = new HashMap<>();
        for (Priority p : Priority.values()) {
            intake.add(catalog.intake(p).name());
            levelByTopic.put(catalog.intake(p).name(), p);
        }
        // caching: a key written several times within one commit interval reaches its changelog once
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DedupProcessor.STORE),
                Serdes.String(), serdes.value(DedupEntry.class)).withCachingEnabled());
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DedupProcessor.EXPIRY_STORE),
                Serdes.Bytes(), Serdes.String()).withCachingEnabled());
        KStream<String, Routed> deduped = b
                .stream(intake, Consumed.with(Serdes.String(), serdes.value(LlmRequest.class)).withName("intake-source")
                        .withTimestampExtractor(ProcessingRank.intake(levelByTopic)))
                .process(() -> new DedupProcessor(config.dedupWindow(), config.dedupPurgeInterval(), Map.copyOf(levelByTopic),
                        metrics), Named.as("dedup"), DedupProcessor.STORE, DedupProcessor.EXPIRY_STORE);
        Map<String, KStream<String, Routed>> dedupBranches = deduped.split(Named.as("deduped-"))
                .branch((k, v) -> v instanceof Routed.Admitted a && a.local(), Branched.as("local"))
                .branch((k, v) -> v instanceof Routed.Admitted, Branched.as("admitted"))
                .branch((k, v) -> v instanceof Routed.Event, Branched.withConsumer(s -> events(s, catalog, serdes, "dedup"), "events"))
                .branch((k, v) -> v instanceof Routed.Dead, Branched.withConsumer(s -> dead(s, catalog, serdes, "dedup"), "dlq"))
                .noDefaultBranch();
        KStream<String, QueuedRequest> admitted = dedupBranches.get("deduped-admitted")
                .mapValues(v -> ((Routed.Admitted) v).queued(), Named.as("admitted-value"))
                .repartition(Repartitioned.<String, QueuedRequest>as(ADMITTED_REPARTITION)
                        .withKeySerde(Serdes.String()).withValueSerde(serdes.value(QueuedRequest.class))
                        .withNumberOfPartitions(catalog.partitions()));

        // 3. schedule, with the lifecycle events of the same request ids
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SchedulerProcessor.REQUESTS_STORE),
                Serdes.String(), serdes.value(RouterEntry.class)).withCachingEnabled());
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SchedulerProcessor.VTC_STORE),
                Serdes.String(), Serdes.Long()).withCachingEnabled());
        KStream<String, SchedulerInput> events = b
                .stream(catalog.events().name(), Consumed.with(Serdes.String(), serdes.value(RequestEvent.class)).withName("events-source")
                        .withTimestampExtractor(ProcessingRank.events(catalog.events().name())))
                .filter((k, e) -> e != null && SCHEDULER_EVENTS.contains(e.getType()), Named.as("scheduler-events"))
                .mapValues(SchedulerInput::of, Named.as("event-input"));
        // requests keyed by their own id skip the repartition: dedup and scheduler then share one
        // sub-topology (and one transaction), which is the common case's whole latency budget
        KStream<String, SchedulerInput> local = dedupBranches.get("deduped-local")
                .mapValues(v -> SchedulerInput.of(((Routed.Admitted) v).queued()), Named.as("local-input"));
        KStream<String, Routed> scheduled = admitted
                .mapValues(SchedulerInput::of, Named.as("admitted-input"))
                .merge(events, Named.as("scheduler-input"))
                .merge(local, Named.as("scheduler-local-input"))
                .process(() -> new SchedulerProcessor(config.queueDepth(), config.maxWait(), config.agingEnabled(), config.tick(),
                                new CostEstimator(config.defaultOutputTokens()), config.tenantWeights(), TENANTS_STORE, metrics),
                        Named.as("scheduler"), SchedulerProcessor.REQUESTS_STORE, SchedulerProcessor.VTC_STORE);
        scheduled.split(Named.as("scheduled-"))
                .branch((k, v) -> v instanceof Routed.Release, Branched.withConsumer(s -> s
                        .mapValues(v -> ((Routed.Release) v).queued(), Named.as("release-value"))
                        .to((k, v, ctx) -> catalog.queue(v.getPriority()).name(),
                                Produced.with(Serdes.String(), serdes.value(QueuedRequest.class)).withName("queue-sink")), "release"))
                .branch((k, v) -> v instanceof Routed.Event, Branched.withConsumer(s -> events(s, catalog, serdes, "scheduler"), "events"))
                .branch((k, v) -> v instanceof Routed.Result, Branched.withConsumer(s -> s
                        .mapValues(v -> ((Routed.Result) v).result(), Named.as("result-value"))
                        .to(catalog.results().name(), Produced.with(Serdes.String(), serdes.value(LlmResult.class))
                                .withName("results-sink")), "results"));
        return b.build();
    }

    private static void events(KStream<String, Routed> s, TopicCatalog catalog, TopicSerdes serdes, String stage) {
        s.mapValues(v -> ((Routed.Event) v).event(), Named.as(stage + "-event-value"))
                .to(catalog.events().name(), Produced.with(Serdes.String(), serdes.value(RequestEvent.class))
                        .withName(stage + "-events-sink"));
    }

    private static void dead(KStream<String, Routed> s, TopicCatalog catalog, TopicSerdes serdes, String stage) {
        s.mapValues(v -> ((Routed.Dead) v).letter(), Named.as(stage + "-dead-value"))
                .to(catalog.dlq().name(), Produced.with(Serdes.String(), serdes.value(DeadLetter.class))
                        .withName(stage + "-dlq-sink"));
    }

}
