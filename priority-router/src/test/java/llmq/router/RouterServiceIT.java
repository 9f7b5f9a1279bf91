package llmq.router;

import llmq.testsupport.KafkaIo;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import llmq.avro.ChatMessage;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.RequestParams;
import llmq.testsupport.KafkaIo.Received;
import llmq.router.dedup.DedupProcessor;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.topics.catalog.TopicCatalog;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The priority-router under exactly-once against the real broker and registry: requests on the
 * four intake topics are each released once, to their level's queue, as seen by a
 * {@code read_committed} consumer; a repeated idempotency key is released once and the
 * duplicate becomes a DEDUPLICATED event pointing at the original, also after the router
 * restarted, on the same state directory or on an empty one (restored from the changelog); and
 * a record that is not a valid request is dead-lettered while the router keeps running.
 */
@IntegrationTest
class RouterServiceIT {

    private final Infra infra;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;
    private final List<String> intake = new ArrayList<>();
    private final Deque<RouterService> running = new ArrayDeque<>();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    /** The deployment last started. */
    private Deployment current;

    /** One router deployment: its Streams application id and state directory. */
    private record Deployment(String applicationId, Path stateDir) {
    }

    RouterServiceIT(Infra infra) {
        this.infra = infra;
        this.catalog = infra.catalog();
        this.kafka = new KafkaIo(infra);
        for (Priority p : Priority.values()) {
            intake.add(catalog.intake(p).name());
        }
    }

    @AfterEach
    void stopEverything() {
        while (!running.isEmpty()) {
            running.pop().close();
        }
        kafka.close();
    }

    @Test
    void shouldReleaseEachRequestOnceToTheQueueOfItsLevel() {
        start(newDeployment());
        Map<String, LlmRequest> sent = new HashMap<>();
        Map<String, Priority> levelOf = new HashMap<>();
        for (Priority level : Priority.values()) {
            for (int i = 0; i < 2; i++) {
                // every other request carries an idempotency key, so both kinds of dedup key are routed
                LlmRequest r = request(tenant("acme"), i == 0 ? null : "order-" + UUID.randomUUID());
                submit(level, r);
                sent.put(r.getId(), r);
                levelOf.put(r.getId(), level);
            }
        }

        assertThat(kafka.await(catalog.events(), e -> sent.containsKey(e.key()), sent.size())).hasSize(sent.size());
        kafka.awaitCaughtUp(current.applicationId(), intake);

        for (Priority level : Priority.values()) {
            Set<String> expected = ids(sent.keySet(), id -> levelOf.get(id) == level);
            List<Received<QueuedRequest>> queued = kafka.readAll(catalog.queue(level), q -> sent.containsKey(q.key()));
            assertThat(queued).as("queue %s", level).extracting(Received::key)
                    .containsExactlyInAnyOrderElementsOf(expected);
            for (Received<QueuedRequest> q : queued) {
                assertThat(q.value().getRequest()).isEqualTo(sent.get(q.key()));
                assertThat(q.value().getPriority()).isEqualTo(level);
                assertThat(q.value().getOriginalPriority()).isEqualTo(level);
                assertThat(q.value().getDedupKey()).isEqualTo(DedupProcessor.dedupKey(sent.get(q.key())));
                assertThat(q.value().getAttempt()).isEqualTo(1);
            }
        }
        Map<String, List<RequestEvent>> events = events(sent.keySet());
        assertThat(events).containsOnlyKeys(sent.keySet()).allSatisfy((id, list) ->
                assertThat(list).singleElement().satisfies(e -> {
                    assertThat(e.getType()).isEqualTo(EventType.RELEASED);
                    assertThat(e.getPriority()).isEqualTo(levelOf.get(id));
                }));
    }

    @Test
    void shouldReleaseARepeatedIdempotencyKeyOnceAndPointTheDuplicatesAtTheOriginal() {
        start(newDeployment());
        String tenant = tenant("acme");
        LlmRequest original = request(tenant, "order-7");
        submit(Priority.NORMAL, original);
        awaitEvent(original, EventType.RELEASED);

        LlmRequest retry = request(tenant, "order-7");
        LlmRequest retryAtOtherLevel = request(tenant, "order-7");
        LlmRequest otherTenant = request(tenant("globex"), "order-7");
        submit(Priority.NORMAL, retry);
        submit(Priority.HIGH, retryAtOtherLevel);
        submit(Priority.NORMAL, otherTenant);
        Set<String> ids = Set.of(original.getId(), retry.getId(), retryAtOtherLevel.getId(), otherTenant.getId());

        assertThat(kafka.await(catalog.events(), e -> ids.contains(e.key()), ids.size())).hasSize(ids.size());
        kafka.awaitCaughtUp(current.applicationId(), intake);

        assertThat(queued(ids)).containsOnlyKeys(original.getId(), otherTenant.getId())
                .allSatisfy((id, levels) -> assertThat(levels).containsExactly(Priority.NORMAL));
        Map<String, List<RequestEvent>> events = events(ids);
        for (LlmRequest duplicate : List.of(retry, retryAtOtherLevel)) {
            assertThat(events.get(duplicate.getId())).singleElement().satisfies(e -> {
                assertThat(e.getType()).isEqualTo(EventType.DEDUPLICATED);
                assertThat(e.getRelatedRequestId()).isEqualTo(original.getId());
                assertThat(e.getTenantId()).isEqualTo(tenant);
            });
        }
        assertThat(events.get(original.getId())).extracting(RequestEvent::getType).containsExactly(EventType.RELEASED);
        assertThat(events.get(otherTenant.getId())).extracting(RequestEvent::getType)
                .containsExactly(EventType.RELEASED);
    }

    @Test
    void shouldStillDeduplicateAfterARestartOnTheSameStateDirectory() {
        Deployment deployment = newDeployment();
        RouterService first = start(deployment);
        String tenant = tenant("acme");
        LlmRequest original = request(tenant, "invoice-1");
        submit(Priority.HIGH, original);
        awaitEvent(original, EventType.RELEASED);

        first.close();
        running.remove(first);
        start(deployment);
        LlmRequest afterRestart = request(tenant, "invoice-1");
        submit(Priority.HIGH, afterRestart);

        assertThat(awaitEvent(afterRestart, EventType.DEDUPLICATED).getRelatedRequestId()).isEqualTo(original.getId());
        kafka.awaitCaughtUp(deployment.applicationId(), intake);
        Set<String> ids = Set.of(original.getId(), afterRestart.getId());
        assertThat(queued(ids)).containsOnlyKeys(original.getId())
                .allSatisfy((id, levels) -> assertThat(levels).containsExactly(Priority.HIGH));
        assertThat(events(ids).get(afterRestart.getId())).extracting(RequestEvent::getType)
                .containsExactly(EventType.DEDUPLICATED);
    }

    @Test
    void shouldRestoreTheDedupStateFromItsChangelogWhenTheStateDirectoryIsLost() {
        Deployment deployment = newDeployment();
        RouterService first = start(deployment);
        String tenant = tenant("acme");
        LlmRequest original = request(tenant, "invoice-2");
        submit(Priority.LOW, original);
        awaitEvent(original, EventType.RELEASED);

        first.close();
        running.remove(first);
        start(new Deployment(deployment.applicationId(), infra.newDirectory("router-state")));
        LlmRequest afterRestart = request(tenant, "invoice-2");
        submit(Priority.LOW, afterRestart);

        assertThat(awaitEvent(afterRestart, EventType.DEDUPLICATED).getRelatedRequestId()).isEqualTo(original.getId());
        kafka.awaitCaughtUp(deployment.applicationId(), intake);
        assertThat(queued(Set.of(original.getId(), afterRestart.getId()))).containsOnlyKeys(original.getId());
    }

    @Test
    void shouldDeadLetterRecordsThatAreNotValidRequestsAndKeepRunning() {
        RouterService service = start(newDeployment());
        String topic = catalog.intake(Priority.HIGH).name();
        byte[] junk = "{\"id\": \"not avro\"}".getBytes(StandardCharsets.UTF_8);
        String junkKey = "junk-" + run;
        LlmRequest empty = request(tenant("acme"), null);
        empty.setMessages(List.of());
        LlmRequest good = request(tenant("acme"), null);
        // one partition, the good request last: the router must get past both bad records
        RecordMetadata junkAt = kafka.sendRaw(topic, 0, junkKey, junk);
        RecordMetadata emptyAt = kafka.send(catalog.intake(Priority.HIGH), 0, DedupProcessor.dedupKey(empty), empty);
        kafka.send(catalog.intake(Priority.HIGH), 0, DedupProcessor.dedupKey(good), good);

        awaitEvent(good, EventType.RELEASED);
        kafka.awaitCaughtUp(current.applicationId(), intake);

        Set<String> badKeys = Set.of(junkKey, empty.getId());
        Map<String, DeadLetter> dead = kafka.readAll(catalog.dlq(), d -> badKeys.contains(d.key())).stream()
                .collect(Collectors.toMap(Received::key, Received::value));
        assertThat(dead).containsOnlyKeys(badKeys);
        assertThat(dead.get(junkKey)).satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("undecodable");
            assertThat(dl.getStage()).isEqualTo("router");
            assertThat(dl.getSourceTopic()).isEqualTo(topic);
            assertThat(dl.getSourcePartition()).isZero();
            assertThat(dl.getSourceOffset()).isEqualTo(junkAt.offset());
            byte[] payload = new byte[dl.getPayload().remaining()];
            dl.getPayload().duplicate().get(payload);
            assertThat(payload).isEqualTo(junk);
        });
        assertThat(dead.get(empty.getId())).satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("invalid_request");
            assertThat(dl.getErrorMessage()).contains("messages");
            assertThat(dl.getSourceOffset()).isEqualTo(emptyAt.offset());
            assertThat(dl.getRequest()).isEqualTo(empty);
        });
        assertThat(queued(Set.of(good.getId(), empty.getId()))).containsOnlyKeys(good.getId());
        assertThat(KafkaIo.until(() -> service.app().streams().state(), s -> s == KafkaStreams.State.RUNNING))
                .isEqualTo(KafkaStreams.State.RUNNING);
    }

    /** A new application id and state directory, starting at the current end of the intake topics. */
    private Deployment newDeployment() {
        Deployment d = new Deployment("it-router-" + UUID.randomUUID(), infra.newDirectory("router-state"));
        kafka.startGroupAtEnd(d.applicationId(), intake);
        return d;
    }

    private RouterService start(Deployment d) {
        try {
            RouterService service = RouterService.start(infra.settings(Map.of(
                    "router.application-id", d.applicationId(),
                    "router.state-dir", d.stateDir().toString(),
                    "router.admin.port", "0")));
            running.push(service);
            current = d;
            return service;
        } catch (Exception e) {
            throw new IllegalStateException("router did not start", e);
        }
    }

    private String tenant(String name) {
        return name + "-" + run;
    }

    private static LlmRequest request(String tenant, String idempotencyKey) {
        return LlmRequest.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setTenantId(tenant)
                .setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", "hello from " + tenant, null)))
                .setParams(RequestParams.newBuilder().build())
                .setIdempotencyKey(idempotencyKey)
                .setSubmittedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setSource("kafka")
                .build();
    }

    /** Produces {@code r} to the intake topic of {@code level}, keyed by its dedup key. */
    private void submit(Priority level, LlmRequest r) {
        kafka.send(catalog.intake(level), DedupProcessor.dedupKey(r), r);
    }

    private RequestEvent awaitEvent(LlmRequest r, EventType type) {
        List<Received<RequestEvent>> found = kafka.await(catalog.events(),
                e -> e.key().equals(r.getId()) && e.value().getType() == type, 1);
        assertThat(found).as("%s event of %s", type, r.getId()).hasSize(1);
        return found.get(0).value();
    }

    /** The levels each of {@code ids} was released to, over all four queues. */
    private Map<String, List<Priority>> queued(Set<String> ids) {
        Map<String, List<Priority>> out = new HashMap<>();
        for (Priority level : Priority.values()) {
            kafka.readAll(catalog.queue(level), q -> ids.contains(q.key()))
                    .forEach(q -> out.computeIfAbsent(q.key(), k -> new ArrayList<>()).add(level));
        }
        return out;
    }

    /** Events per request id, in log order. */
    private Map<String, List<RequestEvent>> events(Set<String> ids) {
        return kafka.readAll(catalog.events(), e -> ids.contains(e.key())).stream()
                .collect(Collectors.groupingBy(Received::key, Collectors.mapping(Received::value, Collectors.toList())));
    }

    private static Set<String> ids(Collection<String> ids, Predicate<String> filter) {
        return ids.stream().filter(filter).collect(Collectors.toSet());
    }
}
