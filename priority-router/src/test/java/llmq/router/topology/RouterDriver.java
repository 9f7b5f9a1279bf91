package llmq.router.topology;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import llmq.avro.ChatMessage;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.RequestParams;
import llmq.avro.Tenant;
import llmq.avro.Usage;
import llmq.common.config.Settings;
import llmq.router.RouterConfig;
import llmq.router.dedup.DedupProcessor;
import llmq.router.view.RouterMetrics;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.DeadLetterDeserializationHandler;
import llmq.topics.streams.StreamsSettings;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The router topology in a {@link TopologyTestDriver} whose wall clock the test advances by hand:
 * punctuations (release, aging, deadlines, delays) run only when the test moves time on.
 */
final class RouterDriver implements AutoCloseable {

    static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    final TopicCatalog catalog = TopicCatalog.defaults();
    final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    final TopicSerdes serdes = new TopicSerdes(registry);
    final RouterMetrics metrics = RouterMetrics.detached();
    final TopologyTestDriver driver;
    private final Map<Priority, TestInputTopic<String, LlmRequest>> intake = new HashMap<>();
    private final Map<Priority, TestOutputTopic<String, QueuedRequest>> queues = new HashMap<>();
    private final TestInputTopic<String, RequestEvent> eventsIn;
    private final TestOutputTopic<String, RequestEvent> eventsOut;
    private final TestOutputTopic<String, LlmResult> results;
    private final TestOutputTopic<String, DeadLetter> dlq;
    private final TestInputTopic<String, byte[]> publicTopic;
    private final TestInputTopic<String, Tenant> tenants;
    private final List<TestRecord<String, QueuedRequest>> released = new ArrayList<>();
    private final List<RequestEvent> events = new ArrayList<>();
    private int seq;

    RouterDriver(Map<String, String> settings) {
        Map<String, String> s = new HashMap<>(settings);
        s.putIfAbsent("router.classify.require-known-tenant", "false");
        RouterConfig config = RouterConfig.from(Settings.of(s));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "router-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        p.put(StreamsSettings.REGISTRY_CLIENT, registry);
        p.put(StreamsSettings.DLQ_STAGE, "router");
        driver = new TopologyTestDriver(RouterTopology.build(config, catalog, serdes, metrics), p, START);
        for (Priority level : Priority.values()) {
            intake.put(level, driver.createInputTopic(catalog.intake(level).name(), new StringSerializer(),
                    serdes.value(LlmRequest.class).serializer()));
            queues.put(level, driver.createOutputTopic(catalog.queue(level).name(), serdes.key().deserializer(),
                    serdes.value(QueuedRequest.class).deserializer()));
        }
        eventsIn = driver.createInputTopic(catalog.events().name(), new StringSerializer(),
                serdes.value(RequestEvent.class).serializer());
        eventsOut = driver.createOutputTopic(catalog.events().name(), serdes.key().deserializer(),
                serdes.value(RequestEvent.class).deserializer());
        results = driver.createOutputTopic(catalog.results().name(), serdes.key().deserializer(),
                serdes.value(LlmResult.class).deserializer());
        dlq = driver.createOutputTopic(catalog.dlq().name(), serdes.key().deserializer(),
                serdes.value(DeadLetter.class).deserializer());
        publicTopic = driver.createInputTopic(catalog.requests().name(), new StringSerializer(), new ByteArraySerializer());
        tenants = driver.createInputTopic(catalog.configTenants().name(), new StringSerializer(),
                serdes.value(Tenant.class).serializer());
    }

    Instant now() {
        return START.plusMillis(elapsedMillis);
    }

    private long elapsedMillis;

    /** Moves the wall clock (and so the punctuations) on. */
    void advance(Duration d) {
        // step in ticks so punctuations see every moment, as a running app would
        long left = d.toMillis();
        while (left > 0) {
            long step = Math.min(left, 100);
            driver.advanceWallClockTime(Duration.ofMillis(step));
            elapsedMillis += step;
            left -= step;
        }
        drain();
    }

    static LlmRequest request(String id, String tenant, Priority level, Integer maxTokens) {
        return LlmRequest.newBuilder()
                .setId(id).setTenantId(tenant).setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", "question " + id, null)))
                .setParams(RequestParams.newBuilder().setMaxTokens(maxTokens).build())
                .setPriority(level)
                .setSubmittedAt(START)
                .setSource("http")
                .build();
    }

    /** Submits to {@code llm.requests.<level>} with arrival = the current wall clock. */
    LlmRequest submit(String id, String tenant, Priority level) {
        return submit(request(id, tenant, level, 32));
    }

    LlmRequest submit(LlmRequest r) {
        if (r.getSubmittedAt().equals(START) && elapsedMillis > 0) {
            r.setSubmittedAt(now());
        }
        intake.get(r.getPriority()).pipeInput(DedupProcessor.dedupKey(r), r, now());
        drain();
        return r;
    }

    /** Submits as a deliberate re-run (the header {@code llmq replay --rerun} adds). */
    void rerun(LlmRequest r) {
        org.apache.kafka.common.header.internals.RecordHeaders h = new org.apache.kafka.common.header.internals.RecordHeaders();
        h.add(llmq.topics.replay.Replayer.RERUN_HEADER, "true".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        intake.get(r.getPriority()).pipeInput(new TestRecord<>(DedupProcessor.dedupKey(r), r, h, now()));
        drain();
    }

    void publish(byte[] value) {
        publicTopic.pipeInput(null, value, now());
        drain();
    }

    void tenant(Tenant t) {
        tenants.pipeInput(t.getId(), t, now());
    }

    void event(String id, String tenant, EventType type, Integer attempt, Instant notBefore, Usage usage) {
        RequestEvent e = RequestEvent.newBuilder().setRequestId(id).setTenantId(tenant).setType(type).setAt(now())
                .setAttempt(attempt).setNotBefore(notBefore).setUsage(usage).build();
        eventsIn.pipeInput(id, e, now());
        drain();
    }

    void started(String id, String tenant) {
        event(id, tenant, EventType.STARTED, released(id).get(released(id).size() - 1).value().getAttempt(), null, null);
    }

    /** Everything released so far, in order. */
    List<TestRecord<String, QueuedRequest>> released() {
        drain();
        return released;
    }

    List<TestRecord<String, QueuedRequest>> released(String id) {
        return released().stream().filter(r -> r.key().equals(id)).toList();
    }

    List<String> releasedIds() {
        return released().stream().map(TestRecord::key).toList();
    }

    /** Events the topology wrote (excluding the ones the test fed in). */
    List<RequestEvent> events() {
        drain();
        return events;
    }

    List<RequestEvent> events(String id, EventType type) {
        return events().stream().filter(e -> e.getRequestId().equals(id) && e.getType() == type).toList();
    }

    List<LlmResult> results() {
        return results.readValuesToList();
    }

    List<DeadLetter> deadLetters() {
        return dlq.readValuesToList();
    }

    /** Moves output to the test's lists; events written by the topology come back on llm.events. */
    private void drain() {
        for (Priority level : Priority.values()) {
            released.addAll(queues.get(level).readRecordsToList());
        }
        for (RequestEvent e : eventsOut.readValuesToList()) {
            // the driver's output topic also shows the events this test fed in: keep only the topology's
            if (e.getType() != EventType.STARTED && e.getType() != EventType.COMPLETED
                    && e.getType() != EventType.RETRY_SCHEDULED && e.getType() != EventType.CANCEL_REQUESTED
                    && e.getType() != EventType.FAILED) {
                events.add(e);
            }
        }
    }

    String nextId(String prefix) {
        return prefix + "-" + (++seq);
    }

    @Override
    public void close() {
        driver.close();
    }
}
