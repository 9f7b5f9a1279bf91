package llmq.worker.consume;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.avro.QueuedRequest;
import llmq.schemas.serde.AvroSerde;
import llmq.worker.model.ChatCompletions;
import llmq.worker.model.ModelCallException;
import llmq.worker.outcome.Outcomes;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's consumer thread: takes records from the queue topics, starts a model call for
 * each (asynchronously, up to the in-flight limit, pausing the partitions when full), publishes
 * the outcome, and commits each partition only up to its lowest unfinished record. A crash may
 * therefore re-run calls that finished after the last commit; results and usage are keyed by
 * request id, so nothing downstream counts them twice.
 */
public final class WorkerLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoop.class);

    private final Consumer<String, byte[]> consumer;
    private final Collection<String> topics;
    private final AvroSerde<QueuedRequest> serde;
    private final ChatCompletions model;
    private final Outcomes outcomes;
    private final int maxInFlight;
    private final Duration shutdownGrace;
    private final OffsetTracker tracker = new OffsetTracker();
    private final ConcurrentLinkedQueue<Finished> finished = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * The partitions this consumer owns, each with the number of the assignment that gave it.
     * A call still running when its partition was revoked may finish after the partition came
     * back; its offset must not count as done then, since the records below it are being taken
     * again, so each finished record carries the assignment it was taken in.
     */
    private final Map<TopicPartition, Long> owned = new HashMap<>();
    private long assignments;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Counter completedCounter;
    private final Counter failedCounter;
    private volatile boolean running = true;
    private volatile Throwable fatal;

    private record Finished(TopicPartition tp, long assignment, long offset, boolean durable) {
    }

    public WorkerLoop(Consumer<String, byte[]> consumer, Collection<String> topics, AvroSerde<QueuedRequest> serde,
                      ChatCompletions model, Outcomes outcomes, int maxInFlight, Duration shutdownGrace,
                      MeterRegistry metrics) {
        this.consumer = consumer;
        this.topics = List.copyOf(topics);
        this.serde = serde;
        this.model = model;
        this.outcomes = outcomes;
        this.maxInFlight = maxInFlight;
        this.shutdownGrace = shutdownGrace;
        this.completedCounter = Counter.builder("llmq_worker_requests").tag("outcome", "completed").register(metrics);
        this.failedCounter = Counter.builder("llmq_worker_requests").tag("outcome", "failed").register(metrics);
        metrics.gauge("llmq_worker_in_flight", inFlight);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(topics, new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    drainFinished();
                    commitSync();
                    tracker.revoked(partitions);
                    owned.keySet().removeAll(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignments++;
                    partitions.forEach(tp -> owned.put(tp, assignments));
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    tracker.revoked(partitions);
                    owned.keySet().removeAll(partitions);
                }
            });
            while (running) {
                drainFinished();
                Map<TopicPartition, OffsetAndMetadata> commit = tracker.commitable();
                if (!commit.isEmpty()) {
                    consumer.commitAsync(commit, (offsets, e) -> {
                        if (e != null) {
                            LOG.warn("offset commit failed (will be retried by the next commit): {}", e.toString());
                        }
                    });
                }
                if (inFlight.get() >= maxInFlight) {
                    consumer.pause(consumer.assignment());
                } else if (!consumer.paused().isEmpty()) {
                    consumer.resume(consumer.paused());
                }
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(20));
                for (ConsumerRecord<String, byte[]> r : records) {
                    take(r);
                }
            }
            finishInFlight();
        } catch (WakeupException e) {
            if (running) {
                fatal = e;
            }
            finishInFlight();
        } catch (RuntimeException e) {
            fatal = e;
            LOG.error("worker loop failed", e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("consumer did not close cleanly", e);
            }
            stopped.countDown();
        }
    }

    private void take(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        long assignment = owned.getOrDefault(tp, -1L);
        tracker.started(tp, r.offset());
        inFlight.incrementAndGet();
        Instant now = Instant.now();
        QueuedRequest q;
        try {
            q = serde.deserialize(r.topic(), r.value());
            if (q == null) {
                throw new IllegalArgumentException("empty value");
            }
        } catch (RuntimeException e) {
            LOG.warn("dead-lettering undecodable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
            track(tp, assignment, r.offset(),
                    outcomes.undecodable(r.key(), r.value(), r.topic(), r.partition(), r.offset(), e, now));
            return;
        }
        CompletableFuture<Void> done = outcomes.started(q, now)
                .thenCompose(x -> model.complete(q.getRequest(), q.getAttempt())
                        .handle((completion, error) -> {
                            Instant end = Instant.now();
                            if (error == null) {
                                completedCounter.increment();
                                return outcomes.completed(q, completion, now, end);
                            }
                            Throwable cause = error instanceof CompletionException && error.getCause() != null
                                    ? error.getCause() : error;
                            ModelCallException mce = cause instanceof ModelCallException m ? m
                                    : new ModelCallException("internal_error", cause.toString(), null, false, null,
                                    null, cause);
                            failedCounter.increment();
                            return outcomes.failed(q, mce, now, end, r.topic(), r.partition(), r.offset());
                        })
                        .thenCompose(f -> f));
        track(tp, assignment, r.offset(), done);
    }

    private void track(TopicPartition tp, long assignment, long offset, CompletableFuture<Void> done) {
        done.whenComplete((v, e) -> {
            if (e != null) {
                LOG.error("outcome of {}@{} not durable; it will run again after a restart", tp, offset, e);
            }
            finished.add(new Finished(tp, assignment, offset, e == null));
            inFlight.decrementAndGet();
        });
    }

    private void drainFinished() {
        Finished f;
        while ((f = finished.poll()) != null) {
            if (f.durable() && Long.valueOf(f.assignment()).equals(owned.get(f.tp()))) {
                tracker.finished(f.tp(), f.offset());
            }
        }
    }

    private void commitSync() {
        Map<TopicPartition, OffsetAndMetadata> commit = tracker.commitable();
        if (!commit.isEmpty()) {
            try {
                consumer.commitSync(commit, Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("offset commit failed: {}", e.toString());
            }
        }
    }

    private void finishInFlight() {
        long deadline = System.nanoTime() + shutdownGrace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            drainFinished();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        drainFinished();
        commitSync();
        if (inFlight.get() > 0) {
            LOG.warn("{} calls still in flight at shutdown; their records will be taken again", inFlight.get());
        }
    }

    /** Number of model calls in flight. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Null while healthy. */
    public Throwable fatal() {
        return fatal;
    }

    /** Stops taking work, lets in-flight calls finish within the grace period, commits, and returns. */
    public void stop() {
        running = false;
        try {
            if (!stopped.await(shutdownGrace.toMillis() + 10_000, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                consumer.wakeup();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
