package llmq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.ResultStatus;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.tokens.TokenModel;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.testsupport.KafkaIo.Received;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.testing.FakeRouter;
import llmq.worker.testing.Requests;
import llmq.worker.testing.WorkerRig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's endpoint pool, retries and fair share on the real broker against simulated
 * endpoints (one simulator per endpoint, so each endpoint's own counts and audit are the
 * evidence). Retries are driven by {@link FakeRouter}, which plays the router's part of the
 * contract: it releases the next attempt once a RETRY_SCHEDULED event's not-before has passed.
 */
@IntegrationTest
class WorkerPoolIT {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerPoolIT.class);

    private final WorkerRig rig;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;

    WorkerPoolIT(Infra infra) {
        this.rig = new WorkerRig(infra);
        this.catalog = rig.catalog();
        this.kafka = rig.kafka();
    }

    @AfterEach
    void stopEverything() throws Exception {
        rig.close();
    }

    @Test
    void shouldNeverSendAnEndpointMoreThanItsMaxConcurrentCalls() {
        ModelSimulator sim = rig.simulator(Map.of(ModelSimConfig.TTFT, "15ms"));
        String group = rig.newGroup("it-pool");
        startWorker(group, Map.of(
                "worker.max-in-flight", "32",
                "worker.endpoints.limited.url", sim.baseUrl(),
                "worker.endpoints.limited.max-concurrent", "4"));
        Map<String, QueuedRequest> sent = submitMany(80, null);

        assertThat(kafka.await(catalog.results(), r -> sent.containsKey(r.key()), sent.size())).hasSize(sent.size());
        assertThat(sim.peakInFlight()).as("the simulator's own peak of concurrent calls").isLessThanOrEqualTo(4);
        assertThat(sim.peakInFlight()).as("the load was enough to reach the limit").isEqualTo(4);
        assertThat(sim.audit().servedCount()).isEqualTo(80);
    }

    @Test
    void shouldSendEveryCallOfAConversationToOneEndpoint() {
        ModelSimulator a = rig.simulator(Map.of(ModelSimConfig.TTFT, "2ms"));
        ModelSimulator b = rig.simulator(Map.of(ModelSimConfig.TTFT, "2ms"));
        startWorker(rig.newGroup("it-pool"), Map.of(
                "worker.endpoints.a.url", a.baseUrl(),
                "worker.endpoints.b.url", b.baseUrl()));
        Map<String, QueuedRequest> conversation = submitMany(50, "conversation-" + rig.run());
        assertThat(kafka.await(catalog.results(), r -> conversation.containsKey(r.key()), 50)).hasSize(50);

        Set<String> servedByA = a.audit().callsByRequestId().keySet();
        Set<String> servedByB = b.audit().callsByRequestId().keySet();
        assertThat(List.of(servedByA.size(), servedByB.size())).containsExactlyInAnyOrder(50, 0);

        // without a conversation the same pool spreads the calls
        Map<String, QueuedRequest> loose = submitMany(50, null);
        assertThat(kafka.await(catalog.results(), r -> loose.containsKey(r.key()), 50)).hasSize(50);
        assertThat(a.audit().callsByRequestId().keySet()).containsAnyElementsOf(loose.keySet());
        assertThat(b.audit().callsByRequestId().keySet()).containsAnyElementsOf(loose.keySet());
    }

    @Test
    void shouldCompleteOrDeadLetterEveryRequestWhenThirtyPercentOfCallsFailAndHonourRetryAfter() throws Exception {
        ModelSimulator sim = rig.simulator(Map.of(
                ModelSimConfig.RATE_LIMIT_RATE, "0.15",
                ModelSimConfig.RETRY_AFTER, "1s",
                ModelSimConfig.SERVER_ERROR_RATE, "0.15",
                ModelSimConfig.SERVER_ERROR_CODES, "500",
                ModelSimConfig.SEED, "7"));
        startWorker(rig.newGroup("it-pool"), Map.of(
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", "sim",
                "worker.retry.initial-backoff", "200ms"));
        FakeRouter router = router();
        Map<String, QueuedRequest> sent = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            QueuedRequest q = queued(rig.tenant("acme"), Priority.values()[i % 4], "flaky " + i, null);
            sent.put(q.getRequest().getId(), q);
            router.release(q);
        }

        List<Received<LlmResult>> results = kafka.await(catalog.results(), r -> sent.containsKey(r.key()), sent.size());
        assertThat(results).extracting(Received::key).as("none lost, none twice")
                .containsExactlyInAnyOrderElementsOf(sent.keySet());

        Map<String, DeadLetter> dead = kafka.readAll(catalog.dlq(), d -> sent.containsKey(d.key())).stream()
                .collect(Collectors.toMap(Received::key, Received::value));
        for (Received<LlmResult> r : results) {
            if (r.value().getStatus() == ResultStatus.FAILED) {
                DeadLetter dl = dead.get(r.key());
                assertThat(dl).as("dead letter of failed %s", r.key()).isNotNull();
                assertThat(dl.getErrorClass()).isIn("rate_limited", "server_error");
                assertThat(dl.getErrorMessage()).contains("HTTP").contains("no retries left");
                assertThat(dl.getAttempts()).isEqualTo(4);
                assertThat(dl.getLastEndpoint()).isEqualTo("sim");
            } else {
                assertThat(r.value().getStatus()).isEqualTo(ResultStatus.COMPLETED);
                assertThat(dead).doesNotContainKey(r.key());
            }
        }

        Map<String, List<RequestEvent>> events = events(sent.keySet());
        int retries = 0;
        int afterRateLimit = 0;
        for (Map.Entry<String, List<RequestEvent>> e : events.entrySet()) {
            List<RequestEvent> ev = e.getValue();
            for (int i = 0; i < ev.size(); i++) {
                if (ev.get(i).getType() != EventType.RETRY_SCHEDULED) {
                    continue;
                }
                retries++;
                RequestEvent retry = ev.get(i);
                RequestEvent nextStart = ev.stream().filter(x -> x.getType() == EventType.STARTED
                        && x.getAttempt() == retry.getAttempt() + 1).findFirst().orElseThrow();
                if (retry.getReason().startsWith("rate_limited")) {
                    afterRateLimit++;
                    assertThat(Duration.between(retry.getAt(), retry.getNotBefore()))
                            .as("not-before of %s after a 429 with Retry-After 1 s", e.getKey())
                            .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                    assertThat(Duration.between(retry.getAt(), nextStart.getAt()))
                            .as("gap between attempts of %s", e.getKey()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                }
            }
        }
        assertThat(retries).as("retries happened").isGreaterThan(5);
        assertThat(afterRateLimit).as("some after a 429").isGreaterThan(0);
        // the model's own view: after every 429 the same request was not called again within Retry-After
        Map<String, List<Audit.Entry>> calls = sim.audit().entries().stream().filter(x -> sent.containsKey(x.requestId()))
                .collect(Collectors.groupingBy(Audit.Entry::requestId));
        calls.values().forEach(list -> {
            for (int i = 0; i + 1 < list.size(); i++) {
                if (list.get(i).status() == 429) {
                    assertThat(Duration.between(list.get(i).timestamp(), list.get(i + 1).timestamp()))
                            .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                }
            }
        });
        long completed = results.stream().filter(r -> r.value().getStatus() == ResultStatus.COMPLETED).count();
        LOG.info("30% failures: {} completed, {} dead-lettered, {} retries ({} after 429)", completed,
                results.size() - completed, retries, afterRateLimit);
    }

    @Test
    void shouldOpenTheCircuitOfAnEndpointThatOnlyFailsAndSendTrafficToTheHealthyOne() throws Exception {
        ModelSimulator good = rig.simulator(Map.of(ModelSimConfig.TTFT, "2ms"));
        ModelSimulator bad = rig.simulator(Map.of(ModelSimConfig.SERVER_ERROR_RATE, "1.0",
                ModelSimConfig.SERVER_ERROR_CODES, "500"));
        WorkerService worker = startWorker(rig.newGroup("it-pool"), Map.of(
                "worker.max-in-flight", "4",
                "worker.load-balancing", "round-robin",
                "worker.endpoints.good.url", good.baseUrl(),
                "worker.endpoints.bad.url", bad.baseUrl(),
                "worker.circuit.window", "10",
                "worker.circuit.minimum-calls", "5",
                "worker.circuit.open-duration", "5m",
                "worker.retry.initial-backoff", "100ms"));
        FakeRouter router = router();
        Map<String, QueuedRequest> sent = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            QueuedRequest q = queued(rig.tenant("acme"), Priority.NORMAL, "first " + i, null);
            sent.put(q.getRequest().getId(), q);
            router.release(q);
        }
        List<Received<LlmResult>> results = kafka.await(catalog.results(), r -> sent.containsKey(r.key()), sent.size());
        assertThat(results).hasSize(40).allSatisfy(r -> {
            assertThat(r.value().getStatus()).isEqualTo(ResultStatus.COMPLETED);
            assertThat(r.value().getEndpoint()).isEqualTo("good");
        });
        assertThat(worker.pool().circuitState("bad")).isEqualTo(CircuitBreaker.State.OPEN);
        long badCalls = bad.audit().callCount();
        assertThat(badCalls).as("calls the failing endpoint got before its circuit opened").isBetween(5L, 10L);

        // with the circuit open, new traffic goes only to the healthy endpoint
        Map<String, QueuedRequest> later = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            QueuedRequest q = queued(rig.tenant("acme"), Priority.NORMAL, "later " + i, null);
            later.put(q.getRequest().getId(), q);
            router.release(q);
        }
        assertThat(kafka.await(catalog.results(), r -> later.containsKey(r.key()), 20)).hasSize(20)
                .allSatisfy(r -> assertThat(r.value().getEndpoint()).isEqualTo("good"));
        assertThat(bad.audit().callCount()).isEqualTo(badCalls);
        assertThat(events(later.keySet()).values()).allSatisfy(ev ->
                assertThat(ev).extracting(RequestEvent::getType).containsExactly(EventType.STARTED, EventType.COMPLETED));

        String metrics = scrape(worker);
        assertThat(metrics)
                .contains("llmq_worker_endpoint_circuit_state{endpoint=\"bad\"} 2.0")
                .contains("llmq_worker_endpoint_circuit_state{endpoint=\"good\"} 0.0")
                .contains("llmq_worker_endpoint_in_flight{endpoint=\"good\"}")
                .contains("llmq_worker_call_errors_total{class=\"server_error\",endpoint=\"bad\"}")
                .contains("llmq_worker_retries_total{class=\"server_error\"}")
                .contains("llmq_worker_call_seconds_bucket{endpoint=\"good\",model=\"sim-small\",outcome=\"ok\"")
                .contains("llmq_worker_tokens_total{endpoint=\"good\",kind=\"completion\",model=\"sim-small\"}")
                .contains("llmq_worker_queue_wait_seconds_bucket{level=\"normal\",since=\"released\"")
                .contains("llmq_worker_overhead_seconds_bucket{le=");
    }

    private static String scrape(WorkerService worker) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + worker.adminPort() + "/metrics"))
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void shouldStreamFromTheEndpointAndReportTheUsageOfItsFinalChunk() {
        ModelSimulator sim = rig.simulator(Map.of(ModelSimConfig.TTFT, "5ms", ModelSimConfig.STREAM_CHUNK_TOKENS, "4"));
        WorkerService worker = startWorker(rig.newGroup("it-pool"), Map.of(
                "worker.endpoints.streamed.url", sim.baseUrl(),
                "worker.endpoints.streamed.stream", "true"));
        Map<String, QueuedRequest> sent = submitMany(8, null);

        List<Received<LlmResult>> results = kafka.await(catalog.results(), r -> sent.containsKey(r.key()), 8);
        assertThat(results).hasSize(8).allSatisfy(r -> {
            QueuedRequest q = sent.get(r.key());
            TokenModel.Completion expected = sim.tokenModel().complete(
                    List.of(TokenModel.Message.user(q.getRequest().getMessages().get(0).getContent())), null);
            assertThat(r.value().getOutput()).isEqualTo(expected.text());
            assertThat(r.value().getUsage().getCompletionTokens()).isEqualTo(expected.completionTokens());
            assertThat(r.value().getUsage().getEstimated()).isFalse();
        });
        assertThat(sim.audit().entries()).allSatisfy(e -> assertThat(e.stream()).isTrue());
        assertThat(worker.metrics().registry().find("llmq_worker_ttft").timer()).isNotNull()
                .satisfies(t -> assertThat(t.count()).isEqualTo(8));
    }

    @Test
    void shouldServeBackloggedLevelsInProportionToTheirWeights() {
        Map<Priority, Integer> split = backloggedSplit(List.of(Priority.values()), 200, 40, 240);
        LOG.info("integration fair share over 240 calls (expected 128/64/32/16): {}", split);
        assertShares(split, 240, Map.of(Priority.REALTIME, 8, Priority.HIGH, 4, Priority.NORMAL, 2, Priority.LOW, 1));
    }

    @Test
    void shouldServeLowAndNormalOneToTwoWhenOnlyTheyAreBacklogged() {
        Map<Priority, Integer> split = backloggedSplit(List.of(Priority.NORMAL, Priority.LOW), 200, 40, 240);
        LOG.info("integration fair share over 240 calls (expected normal 160, low 80): {}", split);
        assertShares(split, 240, Map.of(Priority.NORMAL, 2, Priority.LOW, 1));
    }

    /**
     * Fills the queues of {@code levels} with {@code perLevel} records each before a worker with
     * four slots starts, and counts the levels of the calls the model answered from position
     * {@code skip} on, for {@code count} calls (while every level still has a backlog).
     */
    private Map<Priority, Integer> backloggedSplit(List<Priority> levels, int perLevel, int skip, int count) {
        ModelSimulator sim = rig.simulator(Map.of(ModelSimConfig.TTFT, "10ms"));
        String group = rig.newGroup("it-pool");
        Map<String, Priority> levelOf = new HashMap<>();
        for (Priority p : levels) {
            for (int i = 0; i < perLevel; i++) {
                QueuedRequest q = queued(rig.tenant("acme"), p, "fair " + p + " " + i, null);
                levelOf.put(q.getRequest().getId(), p);
                kafka.send(catalog.queue(p), q.getRequest().getId(), q);
            }
        }
        startWorker(group, Map.of(
                "worker.max-in-flight", "4",
                "worker.buffer.per-level", "32",
                "worker.endpoint.url", sim.baseUrl()));
        KafkaIo.until(() -> sim.audit().servedCount(), n -> n >= skip + count);
        List<Audit.Entry> answered = sim.audit().entries().stream()
                .filter(e -> levelOf.containsKey(e.requestId())).toList();
        assertThat(answered).hasSizeGreaterThanOrEqualTo(skip + count);
        Map<Priority, Integer> split = new EnumMap<>(Priority.class);
        answered.subList(skip, skip + count).forEach(e -> split.merge(levelOf.get(e.requestId()), 1, Integer::sum));
        return split;
    }

    private static void assertShares(Map<Priority, Integer> split, int count, Map<Priority, Integer> weights) {
        int total = weights.values().stream().mapToInt(Integer::intValue).sum();
        assertThat(split).containsOnlyKeys(weights.keySet());
        weights.forEach((p, w) -> assertThat(split.get(p) / (double) count)
                .as("share of %s in %s", p, split)
                .isBetween(w / (double) total * 0.85, w / (double) total * 1.15));
    }

    private FakeRouter router() {
        return rig.track(new FakeRouter(rig.infra().kafkaConfig(), kafka, catalog, rig.infra().serdes()));
    }

    private Map<String, List<RequestEvent>> events(Set<String> ids) {
        return kafka.readAll(catalog.events(), e -> ids.contains(e.key())).stream()
                .collect(Collectors.groupingBy(Received::key,
                        Collectors.mapping(Received::value, Collectors.toList())));
    }

    private Map<String, QueuedRequest> submitMany(int n, String conversation) {
        Map<String, QueuedRequest> sent = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String prompt = "question " + i + " " + rig.run();
            QueuedRequest q = queued(rig.tenant("acme"), Priority.values()[i % 4], prompt, conversation);
            sent.put(q.getRequest().getId(), q);
            kafka.send(catalog.queue(q.getPriority()), q.getRequest().getId(), q);
        }
        return sent;
    }

    private QueuedRequest queued(String tenant, Priority level, String prompt, String conversation) {
        QueuedRequest q = Requests.queued(tenant, level, prompt, Instant.now().truncatedTo(ChronoUnit.MILLIS));
        q.getRequest().setConversationId(conversation);
        return q;
    }

    private WorkerService startWorker(String group, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of(
                "worker.health.interval", "0",
                "worker.shutdown-grace", "10s"));
        s.putAll(extra);
        return rig.startWorker(group, s);
    }
}
