package llmq.worker.consume;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ConnectException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryException;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.worker.WorkerConfig;
import llmq.worker.endpoints.CircuitConfig;
import llmq.worker.endpoints.Balancing;
import llmq.worker.endpoints.EndpointConfig;
import llmq.worker.endpoints.EndpointPool;
import llmq.worker.endpoints.PoolConfig;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.outcome.OutcomeTransaction;
import llmq.worker.outcome.Outcomes;
import llmq.worker.retry.RetryPolicy;
import llmq.worker.run.Dispatcher;
import llmq.worker.schedule.FairQueue;
import llmq.worker.testing.HeldModel;
import llmq.worker.testing.Published;
import llmq.worker.testing.Requests;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The worker loop with a mock consumer, the real dispatcher and pool, and a model whose answers
 * the test releases by hand: commits never pass an unfinished record (also across a rebalance
 * and while the schema registry is down), records a previous owner finished are skipped, a full
 * level is paused, and calls that outlive the shutdown grace are handed back uncommitted.
 */
class WorkerLoopTest {

    private static final String TOPIC = "llm.queue.normal";

    private final TopicPartition p0 = new TopicPartition(TOPIC, 0);
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    /** Writes records as a producer elsewhere would: its own serde instance over the same registry. */
    private final TopicSerdes writer = new TopicSerdes(registry);
    /** The committed offset of p0 when the loop closed its consumer (a closed mock answers nothing). */
    private volatile Long committedAtClose;
    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest") {
        @Override
        public synchronized void close(Duration timeout) {
            OffsetAndMetadata om = committed(Set.of(p0)).get(p0);
            committedAtClose = om == null ? null : om.offset();
            super.close(timeout);
        }
    };
    /** Offsets committed in a transaction reach the group's committed offsets, as the broker's coordinator does. */
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()) {
                @Override
                public void commitTransaction() {
                    Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = uncommittedOffsets();
                    super.commitTransaction();
                    offsets.values().forEach(consumer::commitSync);
                }

                @Override
                public void abortTransaction() {
                    super.abortTransaction();
                    aborts.incrementAndGet();
                }
            };
    private final AtomicInteger aborts = new AtomicInteger();
    private final HeldModel model = new HeldModel();
    private final AtomicBoolean registryDown = new AtomicBoolean();
    private WorkerLoop loop;
    private Thread thread;

    private void start(int maxInFlight, int buffer, Duration grace) {
        start(maxInFlight, buffer, grace, Duration.ZERO);
    }

    private void start(int maxInFlight, int buffer, Duration grace, Duration commitInterval) {
        SchemaRegistryClient flaky = new SchemaRegistryClient() {
            @Override
            public int register(String subject, Schema schema) {
                return registry.register(subject, schema);
            }

            @Override
            public Schema schemaById(int id) {
                if (registryDown.get()) {
                    throw new SchemaRegistryException("schema registry http://registry unreachable",
                            new ConnectException("Connection refused"));
                }
                return registry.schemaById(id);
            }

            @Override
            public Optional<Registered> latest(String subject) {
                return registry.latest(subject);
            }

            @Override
            public List<String> subjects() {
                return registry.subjects();
            }
        };
        TopicSerdes serdes = new TopicSerdes(flaky);
        WorkerMetrics metrics = new WorkerMetrics(new SimpleMeterRegistry());
        EndpointPool pool = new EndpointPool(new PoolConfig(
                List.of(new EndpointConfig("sim", "http://127.0.0.1:1/v1", null, 1, 0, 0, 0, Duration.ofSeconds(60),
                        List.of(), false)),
                Map.of(), Balancing.LEAST_OUTSTANDING, true, CircuitConfig.from(llmq.common.config.Settings.of(Map.of())),
                Duration.ZERO, Duration.ofSeconds(1)), e -> model, metrics);
        OutcomeTransaction transaction = new OutcomeTransaction(producer);
        Outcomes outcomes = new Outcomes(transaction, TopicCatalog.defaults(), serdes, "w1");
        Dispatcher dispatcher = new Dispatcher(new FairQueue<>(WorkerConfig.DEFAULT_WEIGHTS, buffer), maxInFlight, pool,
                outcomes, new RetryPolicy(RetryPolicy.Config.defaults()), metrics, Clock.systemUTC());
        loop = new WorkerLoop(consumer, Map.of(TOPIC, Priority.NORMAL), serdes.value(QueuedRequest.class), dispatcher,
                outcomes, transaction, new WorkerLoop.Options(grace, commitInterval, 1000, Duration.ofMillis(100)), metrics);
        thread = new Thread(loop, "worker-loop-test");
        thread.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        model.releaseAll();
        if (loop != null) {
            loop.stop();
            thread.join(10_000);
        }
    }

    @Test
    void shouldCommitOnePastEachFinishedRecord() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        assignP0With(0, 1);
        await(() -> model.calls() == 2);

        model.release("offset 1");
        model.release("offset 0");

        await(() -> Long.valueOf(2).equals(committed()));
        assertThat(committed()).isEqualTo(2L);
    }

    @Test
    void shouldNotLetACallFromAnEarlierAssignmentMoveTheCommitPoint() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        assignP0With(0, 1);
        await(() -> model.calls() == 2);

        // an eager rebalance takes p0 away while both calls run, then gives it back
        onPoll(() -> {
            consumer.rebalance(List.of());
            consumer.rebalance(List.of(p0));
        });
        // the call for offset 1 from the first assignment finishes before anything is taken again
        model.release("offset 1");
        onPoll(() -> { });
        onPoll(() -> { });

        assertThat(committed()).as("offset 0 is not done, so nothing past it may be committed").isNull();

        // the records are taken again from the committed position and finish in the new assignment
        onPoll(() -> {
            consumer.addRecord(record(0));
            consumer.addRecord(record(1));
        });
        await(() -> model.calls() == 4);
        model.releaseAll();
        await(() -> Long.valueOf(2).equals(committed()));
        assertThat(committed()).isEqualTo(2L);
    }

    @Test
    void shouldMakeAnOutcomeVisibleOnlyTogetherWithTheOffsetItFinishes() throws Exception {
        // commits an hour apart: the window between an outcome and its offset commit stays open for the test
        start(8, 16, Duration.ofSeconds(2), Duration.ofHours(1));
        assignP0With(0);
        await(() -> model.calls() == 1);
        model.release("offset 0");
        await(() -> Published.written(producer, writer).results().size() == 1);

        // a worker killed now leaves an open transaction, which the broker aborts: neither is ever read
        assertThat(Published.committed(producer, writer).results()).as("result before the offset commit").isEmpty();
        assertThat(committed()).isNull();

        loop.stop(); // commits on the way out
        thread.join(10_000);
        assertThat(Published.committed(producer, writer).results()).hasSize(1);
        assertThat(producer.consumerGroupOffsetsHistory()).singleElement()
                .satisfies(c -> assertThat(c.values()).singleElement()
                        .satisfies(o -> assertThat(o.get(p0).offset()).isEqualTo(1L)));
    }

    @Test
    void shouldPublishNothingForACallThatOutlivesItsPartition() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        assignP0With(0);
        await(() -> model.calls() == 1);

        // p0 goes to another worker while the call runs; that worker runs the record again from the committed offset
        onPoll(() -> consumer.rebalance(List.of()));
        model.release("offset 0");
        onPoll(() -> { });
        onPoll(() -> { });

        assertThat(Published.written(producer, writer).results()).as("a second result beside the new owner's").isEmpty();
        assertThat(Published.written(producer, writer).usage()).isEmpty();
        assertThat(committed()).isNull();
    }

    @Test
    void shouldRunAgainWhatAnAbortedTransactionHeldAndPublishEachRecordOnce() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        assignP0With(0, 1);
        await(() -> model.calls() == 2);
        await(() -> Published.committed(producer, writer).events().size() == 2);

        producer.commitTransactionException = new KafkaException("coordinator says no");
        model.release("offset 0");
        await(() -> aborts.get() == 1);
        producer.commitTransactionException = null;
        assertThat(positionOnLoopThread()).as("rewound to the committed offset").isZero();

        onPoll(() -> {
            consumer.addRecord(record(0));
            consumer.addRecord(record(1));
        });
        await(() -> model.calls() == 4);
        model.releaseAll(); // including the first run of offset 1, which is no longer this worker's
        await(() -> Long.valueOf(2).equals(committed()));
        onPoll(() -> { });

        Published out = Published.committed(producer, writer);
        assertThat(out.results()).as("one result per record: the aborted one and the stale one are not read")
                .hasSize(2);
        assertThat(Published.written(producer, writer).results()).hasSize(2);
        assertThat(committed()).isEqualTo(2L);
    }

    @Test
    void shouldStopWithAFatalErrorOnceAnotherProducerWithItsTransactionalIdFencedIt() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        assignP0With(0);
        await(() -> model.calls() == 1);

        producer.fenceProducer(); // a second worker with the same worker.id started
        model.release("offset 0");
        thread.join(10_000);

        assertThat(thread.isAlive()).as("the loop stops rather than run calls whose outcomes cannot commit").isFalse();
        assertThat(loop.fatal()).isNotNull();
        assertThat(Published.committed(producer, writer).results()).isEmpty();
        assertThat(committedAtClose).isNull();
    }

    @Test
    void shouldNotDeadLetterARecordWhileTheSchemaRegistryIsUnreachableAndRunItOnceItIsBack() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        registryDown.set(true);
        assignP0With(0, 1);
        onPoll(() -> { });
        onPoll(() -> { });

        Published out = Published.committed(producer, writer);
        assertThat(out.deadLetters()).as("a good record is not dead-lettered for an unreachable registry").isEmpty();
        assertThat(model.calls()).isZero();
        assertThat(committed()).isNull();
        assertThat(positionOnLoopThread()).as("rewound to the record that could not be decoded").isZero();

        registryDown.set(false);
        onPoll(() -> {
            // the broker delivers again from the rewound position
            consumer.addRecord(record(0));
            consumer.addRecord(record(1));
        });
        await(() -> model.calls() == 2);
        model.releaseAll();
        await(() -> Long.valueOf(2).equals(committed()));
        assertThat(committed()).isEqualTo(2L);
        assertThat(out.deadLetters()).isEmpty();
        assertThat(out.results()).hasSize(2);
    }

    @Test
    void shouldDeadLetterARecordThatIsNotAQueuedRequestAndGoOn() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        onPoll(() -> {
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
            consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, 0, "junk", "not avro".getBytes()));
            consumer.addRecord(record(1));
        });
        await(() -> model.calls() == 1);
        model.releaseAll();
        await(() -> Long.valueOf(2).equals(committed()));

        Published out = Published.committed(producer, writer);
        assertThat(out.deadLetters()).singleElement().satisfies(dl -> {
            assertThat(dl.getErrorClass()).isEqualTo("undecodable");
            assertThat(dl.getSourceOffset()).isZero();
        });
        assertThat(committed()).isEqualTo(2L);
    }

    @Test
    void shouldSkipRecordsThePreviousOwnerFinishedAccordingToTheCommitMetadata() throws Exception {
        start(8, 16, Duration.ofSeconds(2));
        onPoll(() -> {
            // a previous owner finished 1 and 2 but not 0 when it died
            consumer.commitSync(Map.of(p0, new OffsetAndMetadata(0, "llmq1:1.1")));
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
        });
        onPoll(() -> {
            for (long o = 0; o < 4; o++) {
                consumer.addRecord(record(o));
            }
        });
        await(() -> model.calls() == 2);
        onPoll(() -> { });

        assertThat(model.all()).extracting(HeldModel.Call::prompt).containsExactlyInAnyOrder("offset 0", "offset 3");
        model.releaseAll();
        await(() -> Long.valueOf(4).equals(committed()));
        assertThat(committed()).isEqualTo(4L);
    }

    @Test
    void shouldPauseALevelWhileItsBufferIsFullAndResumeWhenItDrains() throws Exception {
        start(1, 2, Duration.ofSeconds(2));
        onPoll(() -> {
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
            for (long o = 0; o < 5; o++) {
                consumer.addRecord(record(o));
            }
        });
        await(() -> model.calls() == 1);
        await(() -> pausedOnLoopThread().contains(p0));
        assertThat(pausedOnLoopThread()).containsExactly(p0);
        assertThat(model.calls()).as("one slot").isEqualTo(1);

        for (int i = 0; i < 5; i++) {
            int next = i + 1;
            await(() -> model.calls() >= next);
            model.releaseAll();
        }
        await(() -> Long.valueOf(5).equals(committed()));
        await(() -> pausedOnLoopThread().isEmpty());
        assertThat(pausedOnLoopThread()).isEmpty();
    }

    @Test
    void shouldHandBackCallsThatOutliveTheShutdownGraceWithoutCommittingThem() throws Exception {
        start(8, 16, Duration.ofMillis(300));
        assignP0With(0, 1);
        await(() -> model.calls() == 2);
        model.release("offset 0");

        loop.stop();
        thread.join(10_000);

        assertThat(thread.isAlive()).isFalse();
        assertThat(committedAtClose).as("offset 1 was handed back").isEqualTo(1L);
        Published out = Published.committed(producer, writer);
        assertThat(out.results()).hasSize(1);
        // answering the handed-back call now publishes nothing
        model.release("offset 1");
        assertThat(out.results()).hasSize(1);
    }

    /** Assigns p0 (from offset 0) and delivers a record at each of {@code offsets}, in one of the loop's polls. */
    private void assignP0With(long... offsets) throws InterruptedException {
        onPoll(() -> {
            consumer.rebalance(List.of(p0));
            consumer.updateBeginningOffsets(Map.of(p0, 0L));
            for (long o : offsets) {
                consumer.addRecord(record(o));
            }
        });
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

    private long positionOnLoopThread() throws InterruptedException {
        long[] out = new long[1];
        onPoll(() -> out[0] = consumer.position(p0));
        return out[0];
    }

    private Set<TopicPartition> pausedOnLoopThread() {
        try {
            @SuppressWarnings("unchecked")
            Set<TopicPartition>[] out = new Set[1];
            onPoll(() -> out[0] = Set.copyOf(consumer.paused()));
            return out[0];
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Set.of();
        }
    }

    private Long committed() {
        OffsetAndMetadata om = consumer.committed(Set.of(p0)).get(p0);
        return om == null ? null : om.offset();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private ConsumerRecord<String, byte[]> record(long offset) {
        QueuedRequest q = Requests.queued("acme", Priority.NORMAL, "offset " + offset, Instant.now());
        return new ConsumerRecord<>(TOPIC, 0, offset, q.getRequest().getId(),
                writer.value(QueuedRequest.class).serialize(TOPIC, q));
    }
}
