package llmq.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import llmq.avro.ChatMessage;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.RequestParams;
import llmq.router.RouterConfig;
import llmq.router.dedup.DedupProcessor;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterTopologyTest {

    private final TopicCatalog catalog = TopicCatalog.defaults();
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final TopicSerdes serdes = new TopicSerdes(registry);
    private TopologyTestDriver driver;
    private TestOutputTopic<String, RequestEvent> events;
    private TestOutputTopic<String, DeadLetter> dlq;
    private final Instant start = Instant.parse("2026-01-01T00:00:00Z");

    @BeforeEach
    void setUp() {
        RouterConfig config = RouterConfig.from(llmq.common.config.Settings.of(Map.of("router.dedup.window", "1h")));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "router-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        p.put(StreamsSettings.REGISTRY_CLIENT, registry);
        p.put(StreamsSettings.DLQ_STAGE, "router");
        driver = new TopologyTestDriver(RouterTopology.build(config, catalog, serdes), p, start);
        events = driver.createOutputTopic(catalog.events().name(), serdes.key().deserializer(),
                serdes.value(RequestEvent.class).deserializer());
        dlq = driver.createOutputTopic(catalog.dlq().name(), serdes.key().deserializer(),
                serdes.value(DeadLetter.class).deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private TestInputTopic<String, LlmRequest> intake(Priority p) {
        return driver.createInputTopic(catalog.intake(p).name(), serdes.key().serializer(),
                serdes.value(LlmRequest.class).serializer());
    }

    private TestOutputTopic<String, QueuedRequest> queue(Priority p) {
        return driver.createOutputTopic(catalog.queue(p).name(), serdes.key().deserializer(),
                serdes.value(QueuedRequest.class).deserializer());
    }

    static LlmRequest request(String id, String tenant, String idempotencyKey) {
        return LlmRequest.newBuilder()
                .setId(id).setTenantId(tenant).setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", "hello", null)))
                .setParams(RequestParams.newBuilder().build())
                .setIdempotencyKey(idempotencyKey)
                .setSubmittedAt(Instant.parse("2026-01-01T00:00:00Z"))
                .setSource("http")
                .build();
    }

    private void submit(Priority p, LlmRequest r) {
        intake(p).pipeInput(DedupProcessor.dedupKey(r), r);
    }

    @Test
    void shouldReleaseNewRequestToItsLevelQueueKeyedByRequestId() {
        submit(Priority.HIGH, request("r1", "acme", null));

        List<TestRecord<String, QueuedRequest>> high = queue(Priority.HIGH).readRecordsToList();
        assertThat(high).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("r1");
            assertThat(rec.value().getPriority()).isEqualTo(Priority.HIGH);
            assertThat(rec.value().getAttempt()).isEqualTo(1);
            assertThat(rec.value().getRequest().getTenantId()).isEqualTo("acme");
        });
        assertThat(queue(Priority.NORMAL).isEmpty()).isTrue();
        assertThat(events.readRecordsToList()).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("r1");
            assertThat(rec.value().getType()).isEqualTo(EventType.RELEASED);
            assertThat(rec.value().getPriority()).isEqualTo(Priority.HIGH);
        });
    }

    @Test
    void shouldDeduplicateSameIdempotencyKeyAndPointAtOriginal() {
        submit(Priority.NORMAL, request("r1", "acme", "order-7"));
        submit(Priority.NORMAL, request("r2", "acme", "order-7"));
        // same key from another tenant is a different request
        submit(Priority.NORMAL, request("r3", "globex", "order-7"));

        assertThat(queue(Priority.NORMAL).readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("r1", "r3");
        List<RequestEvent> ev = events.readValuesToList();
        assertThat(ev).filteredOn(e -> e.getType() == EventType.DEDUPLICATED).singleElement().satisfies(e -> {
            assertThat(e.getRequestId()).isEqualTo("r2");
            assertThat(e.getRelatedRequestId()).isEqualTo("r1");
        });
    }

    @Test
    void shouldDropTheSameRequestIdArrivingAgainWithoutAnEvent() {
        LlmRequest r = request("r1", "acme", null);
        submit(Priority.LOW, r);
        submit(Priority.LOW, r);

        assertThat(queue(Priority.LOW).readKeyValuesToList()).hasSize(1);
        assertThat(events.readValuesToList()).extracting(RequestEvent::getType).containsExactly(EventType.RELEASED);
    }

    @Test
    void shouldAdmitTheKeyAgainOnceTheWindowHasPassed() {
        submit(Priority.NORMAL, request("r1", "acme", "k"));
        driver.advanceWallClockTime(Duration.ofMinutes(61));
        submit(Priority.NORMAL, request("r2", "acme", "k"));

        assertThat(queue(Priority.NORMAL).readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("r1", "r2");
    }

    @Test
    void shouldPurgeExpiredKeysFromTheStore() {
        submit(Priority.NORMAL, request("r1", "acme", "k"));
        assertThat(driver.<String, Object>getKeyValueStore(RouterTopology.DEDUP_STORE).get("acme:k")).isNotNull();
        driver.advanceWallClockTime(Duration.ofMinutes(62));
        assertThat(driver.<String, Object>getKeyValueStore(RouterTopology.DEDUP_STORE).get("acme:k")).isNull();
    }

    @Test
    void shouldDeadLetterARequestWithoutMessages() {
        LlmRequest bad = request("r9", "acme", null);
        bad.setMessages(List.of());
        submit(Priority.NORMAL, bad);

        assertThat(queue(Priority.NORMAL).isEmpty()).isTrue();
        assertThat(dlq.readRecordsToList()).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("r9");
            assertThat(rec.value().getErrorClass()).isEqualTo("invalid_request");
            assertThat(rec.value().getErrorMessage()).contains("messages");
            assertThat(rec.value().getSourceTopic()).isEqualTo("llm.requests.normal");
        });
    }

    @Test
    void shouldDeadLetterUndecodableBytesAndKeepProcessing() {
        var raw = driver.createInputTopic(catalog.intake(Priority.NORMAL).name(), new StringSerializer(),
                new ByteArraySerializer());
        raw.pipeInput("junk", new byte[] {0x7b, 0x22, 0x78});
        submit(Priority.NORMAL, request("r1", "acme", null));

        assertThat(dlq.readRecordsToList()).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("junk");
            assertThat(rec.value().getErrorClass()).isEqualTo("undecodable");
            assertThat(rec.value().getSourceOffset()).isEqualTo(0L);
            assertThat(rec.value().getPayload().remaining()).isEqualTo(3);
        });
        assertThat(queue(Priority.NORMAL).readKeyValuesToList()).extracting(kv -> kv.key).containsExactly("r1");
    }
}
