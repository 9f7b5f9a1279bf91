package llmq.worker;

import llmq.testsupport.KafkaIo;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.ResultStatus;
import llmq.avro.UsageEvent;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.tokens.TokenModel;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.topics.catalog.TopicCatalog;
import llmq.testsupport.KafkaIo.Received;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import llmq.worker.testing.Requests;
import llmq.worker.testing.WorkerRig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The worker against the real broker, schema registry and the model simulator: queued requests
 * from all four queues are each run once and produce exactly one result, one usage event keyed
 * by tenant with the tokens the model really served, and their lifecycle events; a request the
 * model rejects is failed and dead-lettered with its reason; a record that is not a
 * {@code QueuedRequest} is dead-lettered without stopping the worker; and committed offsets
 * cover every finished record, so a worker taking over the group never calls the model again
 * for them.
 */
@IntegrationTest
class WorkerServiceIT {

    private static final String ENDPOINT = "sim";

    private final WorkerRig rig;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;

    WorkerServiceIT(Infra infra) {
        this.rig = new WorkerRig(infra);
        this.catalog = rig.catalog();
        this.kafka = rig.kafka();
    }

    @AfterEach
    void stopEverything() throws Exception {
        rig.close();
    }

    @Test
    void shouldCompleteEveryQueuedRequestOnceWithTheUsageTheModelServed() {
        ModelSimulator sim = rig.simulator(Map.of());
        String group = rig.newGroup("it-worker");
        startWorker(group, sim);
        String acme = rig.tenant("acme");
        String globex = rig.tenant("globex");
        Map<String, QueuedRequest> sent = new HashMap<>();
        int n = 0;
        for (Priority level : Priority.values()) {
            for (int i = 0; i < 3; i++) {
                QueuedRequest q = queued(n % 2 == 0 ? acme : globex, level, "question " + n + " about " + level);
                submit(q, null);
                sent.put(q.getRequest().getId(), q);
                n++;
            }
        }

        assertThat(kafka.await(catalog.results(), r -> sent.containsKey(r.key()), sent.size())).hasSize(sent.size());
        kafka.awaitCaughtUp(group, rig.queues());

        List<Received<LlmResult>> results = kafka.readAll(catalog.results(), r -> sent.containsKey(r.key()));
        assertThat(results).extracting(Received::key).containsExactlyInAnyOrderElementsOf(sent.keySet());
        for (Received<LlmResult> r : results) {
            QueuedRequest q = sent.get(r.key());
            TokenModel.Completion expected = sim.tokenModel().complete(messagesOf(q), null);
            LlmResult result = r.value();
            assertThat(result.getStatus()).isEqualTo(ResultStatus.COMPLETED);
            assertThat(result.getTenantId()).isEqualTo(q.getRequest().getTenantId());
            assertThat(result.getPriority()).isEqualTo(q.getPriority());
            assertThat(result.getOutput()).isEqualTo(expected.text());
            assertThat(result.getFinishReason()).isEqualTo(expected.finishReason());
            assertThat(result.getUsage().getPromptTokens()).isEqualTo(expected.promptTokens());
            assertThat(result.getUsage().getCompletionTokens()).isEqualTo(expected.completionTokens());
            assertThat(result.getUsage().getEstimated()).isFalse();
            assertThat(result.getEndpoint()).isEqualTo(ENDPOINT);
            assertThat(result.getAttempts()).isEqualTo(1);
            assertThat(result.getError()).isNull();
        }

        List<Received<UsageEvent>> usage = kafka.readAll(catalog.usage(), u -> sent.containsKey(u.value().getRequestId()));
        assertThat(usage).extracting(u -> u.value().getRequestId()).containsExactlyInAnyOrderElementsOf(sent.keySet());
        Map<String, LlmResult> resultById = results.stream()
                .collect(Collectors.toMap(Received::key, Received::value));
        for (Received<UsageEvent> u : usage) {
            assertThat(u.key()).isEqualTo(u.value().getTenantId());
            LlmResult result = resultById.get(u.value().getRequestId());
            assertThat(u.value().getTenantId()).isEqualTo(result.getTenantId());
            assertThat(u.value().getPromptTokens()).isEqualTo(result.getUsage().getPromptTokens());
            assertThat(u.value().getCompletionTokens()).isEqualTo(result.getUsage().getCompletionTokens());
            assertThat(u.value().getEndpoint()).isEqualTo(ENDPOINT);
        }

        // the billing invariant: what the worker reports per tenant is what the model served, once per request
        assertThat(sim.audit().callsByRequestId()).containsOnlyKeys(sent.keySet()).allSatisfy((id, calls) ->
                assertThat(calls).as("model calls for %s", id).isEqualTo(1));
        for (String tenant : List.of(acme, globex)) {
            List<UsageEvent> mine = usage.stream().map(Received::value).filter(u -> u.getTenantId().equals(tenant)).toList();
            Audit.Usage served = sim.audit().usageByTenant().get(tenant);
            assertThat(served.calls()).isEqualTo(mine.size());
            assertThat(served.promptTokens()).isEqualTo(mine.stream().mapToLong(UsageEvent::getPromptTokens).sum());
            assertThat(served.completionTokens()).isEqualTo(mine.stream().mapToLong(UsageEvent::getCompletionTokens).sum());
        }

        Map<String, List<EventType>> events = eventTypes(sent.keySet());
        assertThat(events).containsOnlyKeys(sent.keySet()).allSatisfy((id, types) ->
                assertThat(types).as("events of %s", id).containsExactly(EventType.STARTED, EventType.COMPLETED));
    }

    @Test
    void shouldFailAndDeadLetterARequestTheModelRejects() {
        ModelSimulator sim = rig.simulator(Map.of(ModelSimConfig.MODELS, "sim-small"));
        String group = rig.newGroup("it-worker");
        startWorker(group, sim);
        String tenant = rig.tenant("acme");
        QueuedRequest badTemperature = queued(tenant, Priority.HIGH, "too hot");
        badTemperature.getRequest().getParams().setTemperature(3.0);
        QueuedRequest unknownModel = queued(tenant, Priority.NORMAL, "which model?");
        unknownModel.getRequest().setModel("retired-model");
        Map<String, RecordMetadata> sentAt = new HashMap<>();
        Map<String, QueuedRequest> sent = new HashMap<>();
        for (QueuedRequest q : List.of(badTemperature, unknownModel)) {
            sentAt.put(q.getRequest().getId(), submit(q, null));
            sent.put(q.getRequest().getId(), q);
        }

        assertThat(kafka.await(catalog.dlq(), d -> sent.containsKey(d.key()), 2)).hasSize(2);
        kafka.awaitCaughtUp(group, rig.queues());

        Map<String, String> expectedClass = Map.of(
                badTemperature.getRequest().getId(), "invalid_request",
                unknownModel.getRequest().getId(), "not_found");
        Map<String, Integer> expectedStatus = Map.of(
                badTemperature.getRequest().getId(), 400,
                unknownModel.getRequest().getId(), 404);

        List<Received<LlmResult>> results = kafka.readAll(catalog.results(), r -> sent.containsKey(r.key()));
        assertThat(results).extracting(Received::key).containsExactlyInAnyOrderElementsOf(sent.keySet());
        for (Received<LlmResult> r : results) {
            assertThat(r.value().getStatus()).isEqualTo(ResultStatus.FAILED);
            assertThat(r.value().getUsage()).isNull();
            assertThat(r.value().getOutput()).isNull();
            assertThat(r.value().getError().getType()).isEqualTo(expectedClass.get(r.key()));
            assertThat(r.value().getError().getHttpStatus()).isEqualTo(expectedStatus.get(r.key()));
            assertThat(r.value().getError().getRetryable()).isFalse();
            assertThat(r.value().getError().getMessage()).contains("HTTP " + expectedStatus.get(r.key()));
        }

        List<Received<DeadLetter>> dead = kafka.readAll(catalog.dlq(), d -> sent.containsKey(d.key()));
        assertThat(dead).extracting(Received::key).containsExactlyInAnyOrderElementsOf(sent.keySet());
        for (Received<DeadLetter> d : dead) {
            DeadLetter dl = d.value();
            RecordMetadata source = sentAt.get(d.key());
            assertThat(dl.getRequestId()).isEqualTo(d.key());
            assertThat(dl.getTenantId()).isEqualTo(tenant);
            assertThat(dl.getStage()).isEqualTo("worker");
            assertThat(dl.getErrorClass()).isEqualTo(expectedClass.get(d.key()));
            assertThat(dl.getErrorMessage()).contains("HTTP " + expectedStatus.get(d.key()));
            assertThat(dl.getAttempts()).isEqualTo(1);
            assertThat(dl.getLastEndpoint()).isEqualTo(ENDPOINT);
            assertThat(dl.getRequest()).isEqualTo(sent.get(d.key()).getRequest());
            assertThat(dl.getSourceTopic()).isEqualTo(source.topic());
            assertThat(dl.getSourcePartition()).isEqualTo(source.partition());
            assertThat(dl.getSourceOffset()).isEqualTo(source.offset());
        }

        assertThat(kafka.readAll(catalog.usage(), u -> sent.containsKey(u.value().getRequestId()))).isEmpty();
        assertThat(eventTypes(sent.keySet())).containsOnlyKeys(sent.keySet()).allSatisfy((id, types) ->
                assertThat(types).containsExactly(EventType.STARTED, EventType.FAILED, EventType.DEAD_LETTERED));
        assertThat(sim.audit().summary().callsByStatus()).containsOnly(Map.entry(400, 1L), Map.entry(404, 1L));
    }

    @Test
    void shouldDeadLetterUndecodableQueueRecordsAndKeepWorking() {
        ModelSimulator sim = rig.simulator(Map.of());
        String group = rig.newGroup("it-worker");
        startWorker(group, sim);
        String topic = catalog.queue(Priority.NORMAL).name();
        byte[] junk = "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8);
        String junkKey = "junk-" + rig.run();
        String tombstoneKey = "tombstone-" + rig.run();
        // all on one partition, the good record last: the worker must get past the bad ones
        RecordMetadata junkAt = kafka.sendRaw(topic, 0, junkKey, junk);
        RecordMetadata tombstoneAt = kafka.sendRaw(topic, 0, tombstoneKey, null);
        QueuedRequest good = queued(rig.tenant("acme"), Priority.NORMAL, "still there?");
        RecordMetadata goodAt = submit(good, 0);

        Set<String> badKeys = Set.of(junkKey, tombstoneKey);
        assertThat(kafka.await(catalog.results(), r -> r.key().equals(good.getRequest().getId()), 1))
                .singleElement().satisfies(r -> assertThat(r.value().getStatus()).isEqualTo(ResultStatus.COMPLETED));
        kafka.awaitCaughtUp(group, rig.queues());

        Map<String, DeadLetter> dead = kafka.readAll(catalog.dlq(), d -> badKeys.contains(d.key())).stream()
                .collect(Collectors.toMap(Received::key, Received::value));
        assertThat(dead).containsOnlyKeys(badKeys);
        assertThat(dead.get(junkKey)).satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("undecodable");
            assertThat(dl.getStage()).isEqualTo("worker");
            assertThat(dl.getSourceTopic()).isEqualTo(topic);
            assertThat(dl.getSourcePartition()).isZero();
            assertThat(dl.getSourceOffset()).isEqualTo(junkAt.offset());
            assertThat(bytes(dl)).isEqualTo(junk);
            assertThat(dl.getRequest()).isNull();
        });
        assertThat(dead.get(tombstoneKey)).satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("undecodable");
            assertThat(dl.getSourceOffset()).isEqualTo(tombstoneAt.offset());
            assertThat(dl.getPayload()).isNull();
        });
        assertThat(kafka.committed(group)).containsEntry(new TopicPartition(topic, 0), goodAt.offset() + 1);
        assertThat(sim.audit().callsByRequestId()).containsOnly(Map.entry(good.getRequest().getId(), 1));
    }

    @Test
    void shouldCommitEveryFinishedRecordSoTheNextWorkerOfTheGroupDoesNotCallTheModelAgain() throws Exception {
        ModelSimulator sim = rig.simulator(Map.of());
        String group = rig.newGroup("it-worker");
        WorkerService first = startWorker(group, sim);
        String tenant = rig.tenant("acme");
        List<Priority> levels = List.of(Priority.HIGH, Priority.LOW);
        Map<String, RecordMetadata> before = new HashMap<>();
        for (Priority level : levels) {
            for (int partition = 0; partition < catalog.partitions(); partition++) {
                for (int i = 0; i < 2; i++) {
                    QueuedRequest q = queued(tenant, level, "first " + level + " " + partition + " " + i);
                    before.put(q.getRequest().getId(), submit(q, partition));
                }
            }
        }
        assertThat(kafka.await(catalog.results(), r -> before.containsKey(r.key()), before.size()))
                .hasSize(before.size());

        rig.stop(first);

        Map<TopicPartition, Long> committed = kafka.committed(group);
        assertThat(before).allSatisfy((id, md) -> assertThat(committed.get(new TopicPartition(md.topic(), md.partition())))
                .as("committed offset of %s-%d (record %d)", md.topic(), md.partition(), md.offset())
                .isGreaterThan(md.offset()));

        // the next worker of the group gets new work on every partition the first one served
        WorkerService second = startWorker(group, sim);
        Map<String, RecordMetadata> after = new HashMap<>();
        for (Priority level : levels) {
            for (int partition = 0; partition < catalog.partitions(); partition++) {
                QueuedRequest q = queued(tenant, level, "second " + level + " " + partition);
                after.put(q.getRequest().getId(), submit(q, partition));
            }
        }
        assertThat(kafka.await(catalog.results(), r -> after.containsKey(r.key()), after.size()))
                .hasSize(after.size());
        rig.stop(second); // lets anything still in flight finish, so a repeated call would be in the audit

        Map<String, Integer> calls = sim.audit().callsByRequestId();
        assertThat(calls).containsOnlyKeys(union(before.keySet(), after.keySet()));
        assertThat(calls).allSatisfy((id, n) -> assertThat(n).as("model calls for %s", id).isEqualTo(1));
        assertThat(kafka.readAll(catalog.results(), r -> before.containsKey(r.key())))
                .extracting(Received::key).containsExactlyInAnyOrderElementsOf(before.keySet());
    }

    private WorkerService startWorker(String group, ModelSimulator sim) {
        return rig.startWorker(group, Map.of(
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", ENDPOINT,
                "worker.endpoint.timeout", "20s",
                "worker.shutdown-grace", "20s"));
    }

    private static QueuedRequest queued(String tenant, Priority level, String prompt) {
        return Requests.queued(tenant, level, prompt, Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }

    /** Produces {@code q} to its level's queue, keyed by request id, on {@code partition} (null: by key). */
    private RecordMetadata submit(QueuedRequest q, Integer partition) {
        return kafka.send(catalog.queue(q.getPriority()), partition, q.getRequest().getId(), q);
    }

    private static List<TokenModel.Message> messagesOf(QueuedRequest q) {
        return q.getRequest().getMessages().stream()
                .map(m -> new TokenModel.Message(m.getRole(), m.getContent())).toList();
    }

    /** Event types per request id, in log order. */
    private Map<String, List<EventType>> eventTypes(Set<String> ids) {
        return kafka.readAll(catalog.events(), e -> ids.contains(e.key())).stream()
                .collect(Collectors.groupingBy(Received::key,
                        Collectors.mapping(e -> e.value().getType(), Collectors.toList())));
    }

    private static byte[] bytes(DeadLetter dl) {
        byte[] out = new byte[dl.getPayload().remaining()];
        dl.getPayload().duplicate().get(out);
        return out;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        return Stream.concat(a.stream(), b.stream()).collect(Collectors.toSet());
    }
}
