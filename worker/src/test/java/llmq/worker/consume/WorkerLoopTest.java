package llmq.worker.consume;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestParams;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.worker.model.ChatCompletions;
import llmq.worker.model.Completion;
import llmq.worker.outcome.Outcomes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker loop's offset handling across a rebalance, with a mock consumer and a model whose
 * answers the test releases by hand: a call that was still running when its partition was
 * revoked must not move the commit point of the partition once it is assigned again, because
 * the records below it are not done in the new assignment.
 */
class WorkerLoopTest {

    private static final String TOPIC = "llm.queue.normal";

    private final TopicPartition p0 = new TopicPartition(TOPIC, 0);
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final HeldModel model = new HeldModel();
    private WorkerLoop loop;
    private Thread thread;

    @BeforeEach
    void start() {
        loop = new WorkerLoop(consumer, List.of(TOPIC), serdes.value(QueuedRequest.class), model,
                new Outcomes(producer, TopicCatalog.defaults(), serdes, "w1"), 8, Duration.ofSeconds(2),
                new SimpleMeterRegistry());
        thread = new Thread(loop, "worker-loop-test");
        thread.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        model.releaseAll();
        loop.stop();
        thread.join(10_000);
    }

    @Test
    void shouldCommitOnePastEachFinishedRecord() throws Exception {
        onPoll(() -> {
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
            consumer.addRecord(record(0, "a"));
            consumer.addRecord(record(1, "b"));
        });
        await(() -> model.calls() == 2);

        model.release(1);
        model.release(0);

        await(() -> Long.valueOf(2).equals(committed()));
        assertThat(committed()).isEqualTo(2L);
    }

    @Test
    void shouldNotLetACallFromAnEarlierAssignmentMoveTheCommitPoint() throws Exception {
        onPoll(() -> {
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
            consumer.addRecord(record(0, "a"));
            consumer.addRecord(record(1, "b"));
        });
        await(() -> model.calls() == 2);

        // an eager rebalance takes p0 away while both calls run, then gives it back
        onPoll(() -> {
            consumer.rebalance(List.of());
            consumer.rebalance(List.of(p0));
        });
        // the call for offset 1 from the first assignment finishes before anything is taken again
        model.release(1);
        onPoll(() -> { });
        onPoll(() -> { });

        assertThat(committed()).as("offset 0 is not done, so nothing past it may be committed").isNull();

        // the records are taken again from the committed position and finish in the new assignment
        onPoll(() -> {
            consumer.addRecord(record(0, "a"));
            consumer.addRecord(record(1, "b"));
        });
        await(() -> model.calls() == 4);
        model.releaseAll();
        await(() -> Long.valueOf(2).equals(committed()));
        assertThat(committed()).isEqualTo(2L);
    }

    /** Runs {@code task} inside one of the loop's next polls, and waits until it ran. */
    private void onPoll(Runnable task) throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        consumer.schedulePollTask(() -> {
            task.run();
            ran.countDown();
        });
        assertThat(ran.await(10, TimeUnit.SECONDS)).as("poll task ran").isTrue();
    }

    private Long committed() {
        OffsetAndMetadata om = consumer.committed(Set.of(p0)).get(p0);
        return om == null ? null : om.offset();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private ConsumerRecord<String, byte[]> record(long offset, String id) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        LlmRequest r = LlmRequest.newBuilder()
                .setId(id).setTenantId("acme").setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", "offset " + offset, null)))
                .setParams(RequestParams.newBuilder().build())
                .setSubmittedAt(now)
                .build();
        QueuedRequest q = QueuedRequest.newBuilder()
                .setRequest(r).setPriority(Priority.NORMAL).setOriginalPriority(Priority.NORMAL)
                .setDedupKey(id).setAttempt(1).setAcceptedAt(now).setReleasedAt(now)
                .build();
        return new ConsumerRecord<>(TOPIC, 0, offset, id, serdes.value(QueuedRequest.class).serialize(TOPIC, q));
    }

    /** A model whose calls stay open until the test releases them, oldest first per offset. */
    private static final class HeldModel implements ChatCompletions {
        private record Call(String prompt, CompletableFuture<Completion> answer) {
        }

        private final List<Call> calls = new CopyOnWriteArrayList<>();

        @Override
        public CompletableFuture<Completion> complete(LlmRequest request, int attempt) {
            CompletableFuture<Completion> f = new CompletableFuture<>();
            calls.add(new Call(request.getMessages().get(0).getContent(), f));
            return f;
        }

        int calls() {
            return calls.size();
        }

        /** Answers the oldest open call for the record at {@code offset}. */
        void release(long offset) {
            for (Call c : new ArrayList<>(calls)) {
                if (c.prompt().equals("offset " + offset) && !c.answer().isDone()) {
                    c.answer().complete(answer());
                    return;
                }
            }
            throw new AssertionError("no open call for offset " + offset);
        }

        void releaseAll() {
            calls.forEach(c -> c.answer().complete(answer()));
        }

        private static Completion answer() {
            return new Completion("ok", "stop", "sim-small", 5, 1, 0, false, "sim", 1);
        }
    }
}
