package llmq.worker.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.ResultStatus;
import llmq.common.config.Settings;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.worker.WorkerConfig;
import llmq.worker.endpoints.Balancing;
import llmq.worker.endpoints.CircuitConfig;
import llmq.worker.endpoints.EndpointConfig;
import llmq.worker.endpoints.EndpointPool;
import llmq.worker.endpoints.PoolConfig;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.ModelCallException;
import llmq.worker.outcome.Outcomes;
import llmq.worker.retry.RetryPolicy;
import llmq.worker.schedule.FairQueue;
import llmq.worker.testing.HeldModel;
import llmq.worker.testing.MutableClock;
import llmq.worker.testing.Published;
import llmq.worker.testing.Transactions;
import llmq.worker.testing.Requests;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * What the dispatcher publishes for each way a taken request can end, per the event contract
 * with the router, and that it never runs more calls than it has slots.
 */
class DispatcherTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final TopicPartition TP = new TopicPartition("llm.queue.high", 2);

    private final MutableClock clock = new MutableClock(NOW);
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final Published out = Published.written(producer, serdes);
    private final HeldModel model = new HeldModel();
    private final List<Boolean> finished = new ArrayList<>();
    private final Dispatcher dispatcher = dispatcher(4, "gpt-x");
    private final AtomicInteger offsets = new AtomicInteger(100);

    private Dispatcher dispatcher(int slots, String servedModel) {
        EndpointPool pool = new EndpointPool(new PoolConfig(
                List.of(new EndpointConfig("ep-a", "http://127.0.0.1:1/v1", null, 1, 0, 0, 0, Duration.ofSeconds(60),
                        List.of(servedModel), false)),
                Map.of(), Balancing.LEAST_OUTSTANDING, true, CircuitConfig.from(Settings.of(Map.of())), Duration.ZERO,
                Duration.ofSeconds(1)), e -> model, new WorkerMetrics(new SimpleMeterRegistry()));
        Dispatcher d = new Dispatcher(new FairQueue<>(WorkerConfig.DEFAULT_WEIGHTS, 16), slots, pool,
                new Outcomes(Transactions.owning(producer, TP), TopicCatalog.defaults(), serdes, "worker-1"),
                new RetryPolicy(new RetryPolicy.Config(3, Duration.ofMillis(500), 2.0, Duration.ofSeconds(30), 0.5,
                        Duration.ofMinutes(10))),
                new WorkerMetrics(new SimpleMeterRegistry()), clock);
        d.finisher((p, durable) -> finished.add(durable));
        return d;
    }

    private QueuedRequest submit(String prompt, int attempt) {
        QueuedRequest q = Requests.queued("acme", Priority.HIGH, prompt, NOW.minusSeconds(1));
        q.getRequest().setModel("gpt-x");
        q.setAttempt(attempt);
        dispatcher.offer(Priority.HIGH, new Pending(TP, 1, offsets.getAndIncrement(), q, System.nanoTime()));
        dispatcher.pump();
        return q;
    }

    @Test
    void shouldPublishStartedThenCompletedWithResultAndUsage() {
        QueuedRequest q = submit("hello", 1);
        model.release("hello");

        assertThat(types(out.events())).containsExactly(EventType.STARTED, EventType.COMPLETED);
        RequestEvent started = out.events().get(0);
        assertThat(started.getAttempt()).isEqualTo(1);
        assertThat(started.getWorkerId()).isEqualTo("worker-1");
        assertThat(started.getEndpoint()).isEqualTo("ep-a");
        assertThat(out.events().get(1).getUsage().getPromptTokens()).isEqualTo(5);
        assertThat(out.results()).singleElement().satisfies(r -> {
            assertThat(r.getRequestId()).isEqualTo(q.getRequest().getId());
            assertThat(r.getStatus()).isEqualTo(ResultStatus.COMPLETED);
        });
        assertThat(out.usage()).singleElement().satisfies(u -> assertThat(u.getTenantId()).isEqualTo("acme"));
        assertThat(finished).containsExactly(true);
        assertThat(dispatcher.inFlight()).isZero();
        assertThat(dispatcher.unresolved()).isZero();
    }

    @Test
    void shouldScheduleARetryHonouringRetryAfterAndFreeTheSlot() {
        submit("busy", 2);
        model.fail("busy", new ModelCallException("rate_limited", "HTTP 429 from ep-a: slow down", 429, true,
                Duration.ofSeconds(3), "ep-a", null));

        assertThat(types(out.events())).containsExactly(EventType.STARTED, EventType.RETRY_SCHEDULED);
        RequestEvent retry = out.events().get(1);
        assertThat(retry.getAttempt()).as("the attempt that failed").isEqualTo(2);
        assertThat(retry.getNotBefore()).isAfterOrEqualTo(NOW.plusSeconds(3));
        assertThat(retry.getEndpoint()).isEqualTo("ep-a");
        assertThat(retry.getReason()).startsWith("rate_limited: HTTP 429");
        assertThat(out.results()).isEmpty();
        assertThat(out.deadLetters()).isEmpty();
        assertThat(finished).containsExactly(true);
        assertThat(dispatcher.inFlight()).isZero();
    }

    @Test
    void shouldDeadLetterARetryableFailureOfTheLastAttempt() {
        QueuedRequest q = submit("again", 4);
        model.fail("again", new ModelCallException("server_error", "HTTP 500 from ep-a: boom", 500, true, null,
                "ep-a", null));

        assertThat(types(out.events())).containsExactly(EventType.STARTED, EventType.FAILED, EventType.DEAD_LETTERED);
        assertThat(out.events().get(1).getReason()).contains("server_error").contains("no retries left");
        LlmResult result = out.results().get(0);
        assertThat(result.getStatus()).isEqualTo(ResultStatus.FAILED);
        assertThat(result.getError().getType()).isEqualTo("server_error");
        assertThat(result.getAttempts()).isEqualTo(4);
        DeadLetter dl = out.deadLetters().get(0);
        assertThat(dl.getRequestId()).isEqualTo(q.getRequest().getId());
        assertThat(dl.getErrorClass()).isEqualTo("server_error");
        assertThat(dl.getErrorMessage()).contains("HTTP 500");
        assertThat(dl.getAttempts()).isEqualTo(4);
        assertThat(dl.getLastEndpoint()).isEqualTo("ep-a");
        assertThat(dl.getSourceTopic()).isEqualTo(TP.topic());
        assertThat(dl.getSourcePartition()).isEqualTo(TP.partition());
    }

    @Test
    void shouldDeadLetterANonRetryableFailureAtOnce() {
        submit("bad", 1);
        model.fail("bad", ModelCallException.forStatus(400, "{\"error\":\"bad temperature\"}", null, "ep-a"));

        assertThat(types(out.events())).containsExactly(EventType.STARTED, EventType.FAILED, EventType.DEAD_LETTERED);
        assertThat(out.deadLetters()).singleElement().satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("invalid_request");
            assertThat(dl.getAttempts()).isEqualTo(1);
        });
    }

    @Test
    void shouldExpireARequestWhoseDeadlinePassedWithoutCallingTheModel() {
        QueuedRequest q = Requests.queued("acme", Priority.HIGH, "late", NOW.minusSeconds(10));
        q.getRequest().setModel("gpt-x");
        q.getRequest().setDeadline(NOW.minusMillis(1));
        dispatcher.offer(Priority.HIGH, new Pending(TP, 1, 7, q, System.nanoTime()));
        dispatcher.pump();

        assertThat(model.calls()).isZero();
        assertThat(types(out.events())).containsExactly(EventType.STARTED, EventType.EXPIRED);
        assertThat(out.results()).singleElement().satisfies(r -> {
            assertThat(r.getStatus()).isEqualTo(ResultStatus.EXPIRED);
            assertThat(r.getError().getType()).isEqualTo("expired");
        });
        assertThat(out.usage()).isEmpty();
        assertThat(finished).containsExactly(true);
    }

    @Test
    void shouldDeadLetterARequestForAModelNoEndpointServes() {
        QueuedRequest q = Requests.queued("acme", Priority.HIGH, "who?", NOW);
        q.getRequest().setModel("unknown-model");
        dispatcher.offer(Priority.HIGH, new Pending(TP, 1, 8, q, System.nanoTime()));
        dispatcher.pump();

        assertThat(model.calls()).isZero();
        assertThat(out.deadLetters()).singleElement().satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("no_endpoint");
            assertThat(dl.getErrorMessage()).contains("unknown-model");
        });
    }

    @Test
    void shouldNeverRunMoreCallsThanItHasSlots() {
        for (int i = 0; i < 10; i++) {
            submit("p" + i, 1);
        }
        assertThat(model.calls()).isEqualTo(4);
        assertThat(dispatcher.inFlight()).isEqualTo(4);
        assertThat(dispatcher.buffered(Priority.HIGH)).isEqualTo(6);

        model.release("p0");
        assertThat(model.calls()).isEqualTo(5);
        assertThat(dispatcher.inFlight()).isEqualTo(4);
        assertThat(out.events().stream().filter(e -> e.getType() == EventType.STARTED).count())
                .as("exactly one STARTED per record taken").isEqualTo(5);
    }

    @Test
    void shouldDropBufferedRecordsOnCloseAndPublishNothingForHandedBackCalls() {
        submit("a", 1);
        for (int i = 0; i < 5; i++) {
            submit("b" + i, 1);
        }
        dispatcher.close();
        assertThat(dispatcher.buffered(Priority.HIGH)).isZero();
        assertThat(dispatcher.handBack()).isEqualTo(4);
        assertThat(finished).containsOnly(false).hasSize(4);
        model.releaseAll();
        assertThat(out.results()).isEmpty();
    }

    private static List<EventType> types(List<RequestEvent> events) {
        return events.stream().map(RequestEvent::getType).toList();
    }
}
