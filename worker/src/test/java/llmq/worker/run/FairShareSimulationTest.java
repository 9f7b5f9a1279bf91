package llmq.worker.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.worker.WorkerConfig;
import llmq.worker.endpoints.Endpoints;
import llmq.worker.endpoints.Lease;
import llmq.worker.endpoints.Selection;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCall;
import llmq.worker.outcome.Outcomes;
import llmq.worker.retry.RetryPolicy;
import llmq.worker.schedule.FairQueue;
import llmq.worker.testing.MutableClock;
import llmq.worker.testing.Requests;
import llmq.worker.testing.Transactions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher as a discrete-event simulation on a fake clock: a model with a fixed latency,
 * {@code maxInFlight} slots, bounded per-level buffers refilled the way the consumer refills
 * them (a level is topped up to its capacity whenever it is below it and its topic has records,
 * i.e. its partitions are resumed), and the real dispatcher, fair queue, retry policy and
 * outcome publisher (on a mock producer). Deterministic, and fast enough for thousands of calls.
 *
 * <p>"Never idle" is checked after every event of the simulation: whenever any record is still
 * waiting (in a buffer or in a topic), every slot is busy.
 */
class FairShareSimulationTest {

    private static final Duration LATENCY = Duration.ofMillis(40);
    private static final int SLOTS = 8;
    private static final int BUFFER = 16;

    @Test
    void shouldSplitServiceEightFourTwoOneWithinFivePercentWhenAllFourLevelsAreBacklogged() {
        Map<Priority, Integer> backlog = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            backlog.put(p, 5_000);
        }
        Result r = simulate(backlog, 3_000);

        assertThat(r.calls).isEqualTo(3_000);
        for (Priority p : Priority.values()) {
            double expected = WorkerConfig.DEFAULT_WEIGHTS.get(p) / 15.0;
            double share = r.started.get(p) / (double) r.calls;
            assertThat(share).as("share of %s (%s of %s calls)", p, r.started.get(p), r.calls)
                    .isBetween(expected * 0.95, expected * 1.05);
        }
        assertThat(r.idleEvents).as("events at which a slot was free while records waited").isZero();
    }

    @Test
    void shouldSplitOneToTwoAndNeverIdleWhenOnlyLowAndNormalAreBacklogged() {
        Map<Priority, Integer> backlog = new EnumMap<>(Priority.class);
        backlog.put(Priority.NORMAL, 5_000);
        backlog.put(Priority.LOW, 5_000);
        Result r = simulate(backlog, 2_400);

        assertThat(r.started).containsOnlyKeys(Priority.NORMAL, Priority.LOW);
        double lowShare = r.started.get(Priority.LOW) / (double) r.calls;
        assertThat(lowShare).isBetween(1 / 3.0 * 0.95, 1 / 3.0 * 1.05);
        assertThat(r.idleEvents).isZero();
        assertThat(r.checkedEvents).isGreaterThan(100);
    }

    @Test
    void shouldGoIdleOnlyWhenNothingIsLeftToRun() {
        Map<Priority, Integer> backlog = new EnumMap<>(Priority.class);
        backlog.put(Priority.HIGH, 30);
        Result r = simulate(backlog, 10_000);

        assertThat(r.calls).isEqualTo(30);
        assertThat(r.idleEvents).isZero();
    }

    private record Result(Map<Priority, Integer> started, int calls, int idleEvents, int checkedEvents) {
    }

    /** A scheduled answer of the simulated model. */
    private record Answer(Instant at, long seq, CompletableFuture<Completion> future) {
    }

    private Result simulate(Map<Priority, Integer> backlog, int maxCalls) {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        PriorityQueue<Answer> answers = new PriorityQueue<>((a, b) -> a.at().equals(b.at())
                ? Long.compare(a.seq(), b.seq()) : a.at().compareTo(b.at()));
        Map<Priority, Integer> started = new EnumMap<>(Priority.class);
        int[] calls = {0};
        long[] seq = {0};
        Endpoints model = request -> calls[0] >= maxCalls ? new Selection.Busy("enough calls") : new Selection.Acquired(new Lease() {
            @Override
            public String endpoint() {
                return "sim";
            }

            @Override
            public String model() {
                return "sim-small";
            }

            @Override
            public CompletableFuture<Completion> call(ModelCall call) {
                calls[0]++;
                started.merge(call.request().getPriority(), 1, Integer::sum);
                CompletableFuture<Completion> f = new CompletableFuture<>();
                answers.add(new Answer(clock.instant().plus(LATENCY), seq[0]++, f));
                return f;
            }
        });
        TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer());
        Dispatcher d = new Dispatcher(new FairQueue<>(WorkerConfig.DEFAULT_WEIGHTS, BUFFER), SLOTS, model,
                new Outcomes(Transactions.owning(producer, java.util.Arrays.stream(Priority.values())
                        .map(p -> new TopicPartition("llm.queue." + p, 0)).toArray(TopicPartition[]::new)),
                        TopicCatalog.defaults(), serdes, "sim-worker"),
                new RetryPolicy(RetryPolicy.Config.defaults()), new WorkerMetrics(new SimpleMeterRegistry()), clock);
        Map<Priority, Integer> topics = new EnumMap<>(backlog);
        long[] offsets = new long[Priority.values().length];
        int idle = 0;
        int checked = 0;
        while (true) {
            // the consumer: every level below its capacity whose topic has records gets topped up
            if (calls[0] < maxCalls) {
                for (Priority p : Priority.values()) {
                    while (topics.getOrDefault(p, 0) > 0 && !d.full(p)) {
                        topics.merge(p, -1, Integer::sum);
                        QueuedRequest q = Requests.queued("acme", p, "q", clock.instant());
                        d.offer(p, new Pending(new TopicPartition("llm.queue." + p, 0), 1, offsets[p.ordinal()]++, q,
                                System.nanoTime()));
                    }
                }
                d.pump();
            }
            int waiting = 0;
            for (Priority p : Priority.values()) {
                waiting += d.buffered(p) + topics.getOrDefault(p, 0);
            }
            if (calls[0] < maxCalls && waiting > 0) {
                checked++;
                if (d.inFlight() < SLOTS) {
                    idle++;
                }
            }
            if (answers.isEmpty() || calls[0] >= maxCalls) {
                break;
            }
            // the model: answer every call due at the next instant
            Instant next = answers.peek().at();
            clock.set(next);
            List<Answer> due = new ArrayList<>();
            while (!answers.isEmpty() && answers.peek().at().equals(next)) {
                due.add(answers.poll());
            }
            for (Answer a : due) {
                a.future().complete(new Completion("ok", "stop", "sim-small", 5, 3, 0, false, "sim", LATENCY.toMillis()));
            }
            producer.clear();
        }
        return new Result(started, calls[0], idle, checked);
    }
}
