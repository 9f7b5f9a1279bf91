package llmq.ingest.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import llmq.avro.Batch;
import llmq.avro.CallbackDelivery;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.avro.ResultStatus;
import llmq.avro.Usage;
import llmq.ingest.internal.avro.BatchMember;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The status view's topology on Kafka's TopologyTestDriver: fold, idempotency index, batch index, callbacks. */
class StatusTopologyTest {

    private final TopicCatalog catalog = TopicCatalog.defaults();
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private final Instant t0 = Instant.parse("2026-07-01T10:00:00Z");
    private final QueueStats stats = new QueueStats(Duration.ofMinutes(5), () -> t0.toEpochMilli() + 10_000);
    private TopologyTestDriver driver;
    private TestInputTopic<String, RequestEvent> events;
    private TestInputTopic<String, LlmResult> results;
    private TestInputTopic<String, Batch> batches;
    private TestOutputTopic<String, CallbackDelivery> callbacks;

    @BeforeEach
    void start() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.putAll(StatusTopology.optimizations());
        driver = new TopologyTestDriver(StatusTopology.build(catalog, serdes, Duration.ofHours(24), stats), p, t0);
        events = driver.createInputTopic(catalog.events().name(), Serdes.String().serializer(),
                serdes.value(RequestEvent.class).serializer());
        results = driver.createInputTopic(catalog.results().name(), Serdes.String().serializer(),
                serdes.value(LlmResult.class).serializer());
        batches = driver.createInputTopic(catalog.batches().name(), Serdes.String().serializer(),
                serdes.value(Batch.class).serializer());
        callbacks = driver.createOutputTopic(catalog.callbacks().name(), Serdes.String().deserializer(),
                serdes.value(CallbackDelivery.class).deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private RequestEvent accepted(String id, String tenant, int second) {
        return RequestEvent.newBuilder().setRequestId(id).setTenantId(tenant).setType(EventType.ACCEPTED)
                .setAt(t0.plusSeconds(second)).setPriority(Priority.HIGH).build();
    }

    private RequestEvent event(String id, EventType type, int second) {
        return RequestEvent.newBuilder().setRequestId(id).setTenantId("acme").setType(type).setAt(t0.plusSeconds(second))
                .setPriority(Priority.HIGH).setAttempt(1).build();
    }

    private LlmResult result(String id, String output) {
        return LlmResult.newBuilder().setRequestId(id).setTenantId("acme").setStatus(ResultStatus.COMPLETED)
                .setModel("m").setOutput(output).setUsage(new Usage(3, 4, 0, false)).setAttempts(1)
                .setCompletedAt(t0.plusSeconds(9)).build();
    }

    private <V> V value(String store, String key) {
        KeyValueStore<String, Object> s = driver.getKeyValueStore(store);
        Object v = s.get(key);
        @SuppressWarnings("unchecked")
        V out = (V) (v instanceof ValueAndTimestamp<?> vt ? vt.value() : v);
        return out;
    }

    @Test
    void shouldKeepTheFirstRequestAcceptedUnderAnIdempotencyKey() {
        RequestEvent first = accepted("r1", "acme", 1);
        first.setIdempotencyKey("k");
        RequestEvent racing = accepted("r2", "acme", 2);
        racing.setIdempotencyKey("k");
        RequestEvent otherTenant = accepted("r3", "globex", 3);
        otherTenant.setIdempotencyKey("k");
        events.pipeInput("r1", first);
        events.pipeInput("r2", racing);
        events.pipeInput("r3", otherTenant);

        RequestEvent acme = value(StatusTopology.IDEMPOTENCY_STORE, "acme:k");
        RequestEvent globex = value(StatusTopology.IDEMPOTENCY_STORE, "globex:k");
        assertThat(acme.getRequestId()).isEqualTo("r1");
        assertThat(globex.getRequestId()).isEqualTo("r3");
    }

    @Test
    void shouldIndexBatchMembersAndMarkThemDoneWhenTheirResultArrives() {
        batches.pipeInput("b1", Batch.newBuilder().setId("b1").setTenantId("acme").setTotal(2).setCreatedAt(t0).build());
        for (String id : List.of("r1", "r2")) {
            RequestEvent e = accepted(id, "acme", 1);
            e.setBatchId("b1");
            e.setCustomId("line-" + id);
            events.pipeInput(id, e);
        }
        // the result of r1 arrives before its worker events; r2 only starts
        results.pipeInput("r1", result("r1", "done"));
        events.pipeInput("r2", event("r2", EventType.STARTED, 2));

        BatchMember m1 = value(StatusTopology.BATCH_MEMBERS_STORE, "b1|r1");
        BatchMember m2 = value(StatusTopology.BATCH_MEMBERS_STORE, "b1|r2");
        assertThat(m1.getCustomId()).isEqualTo("line-r1");
        assertThat(m1.getDone()).isTrue();
        assertThat(m1.getState()).isEqualTo("completed");
        assertThat(m2.getDone()).isFalse();
        assertThat(m2.getState()).isEqualTo("running");
        Batch b = value(StatusTopology.BATCHES_STORE, "b1");
        assertThat(b.getTotal()).isEqualTo(2);
    }

    @Test
    void shouldEmitOneCallbackWhetherTheResultOrTheAcceptanceComesFirst() {
        RequestEvent a = accepted("r1", "acme", 1);
        a.setCallbackUrl("http://hook/one");
        events.pipeInput("r1", a);
        results.pipeInput("r1", result("r1", "first"));
        events.pipeInput("r1", event("r1", EventType.COMPLETED, 9));
        results.pipeInput("r1", result("r1", "first"));

        results.pipeInput("r2", result("r2", "second"));
        RequestEvent late = accepted("r2", "acme", 1);
        late.setCallbackUrl("http://hook/two");
        events.pipeInput("r2", late);

        results.pipeInput("r3", result("r3", "no callback wanted"));
        events.pipeInput("r3", accepted("r3", "acme", 1));

        List<KeyValue<String, CallbackDelivery>> out = callbacks.readKeyValuesToList();
        assertThat(out).extracting(kv -> kv.key).containsExactly("r1", "r2");
        assertThat(out.get(0).value.getUrl()).isEqualTo("http://hook/one");
        assertThat(out.get(0).value.getOutcome().getOutput()).isEqualTo("first");
        assertThat(out.get(1).value.getUrl()).isEqualTo("http://hook/two");
    }

    @Test
    void shouldRecordPromotionsAndWaitsInTheStatus() {
        events.pipeInput("r1", accepted("r1", "acme", 0));
        events.pipeInput("r1", RequestEvent.newBuilder().setRequestId("r1").setTenantId("acme").setType(EventType.PROMOTED)
                .setAt(t0.plusSeconds(5)).setPriority(Priority.REALTIME).build());
        events.pipeInput("r1", event("r1", EventType.STARTED, 7));

        RequestStatus s = value(StatusTopology.STATUS_STORE, "r1");
        assertThat(s.getPromotions()).singleElement().satisfies(p -> {
            assertThat(p.getFrom()).isEqualTo("high");
            assertThat(p.getTo()).isEqualTo("realtime");
        });
        assertThat(s.getPriority()).isEqualTo("realtime");
        Map<String, QueueStats.LevelView> view = QueueStats.merge(List.of(stats.sample()));
        assertThat(view.get("realtime").waitSamples()).isEqualTo(1);
        assertThat(view.get("realtime").waitP50Ms()).isEqualTo(7000L);
    }
}
