package llmq.worker.consume;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.schemas.serde.AvroSerde;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.outcome.OutcomeTransaction;
import llmq.worker.outcome.Outcomes;
import llmq.worker.outcome.StaleOutcome;
import llmq.worker.run.Dispatcher;
import llmq.worker.run.Pending;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's consumer thread: takes records from the four queue topics into the
 * {@link Dispatcher}'s per-level buffers, pausing a level's partitions while its buffer is full
 * (bounded look-ahead), and commits each partition only up to its lowest unfinished record,
 * with the finished offsets beyond it in the commit metadata. Offsets are committed in the
 * worker's {@link OutcomeTransaction}, together with the outcomes that finished them.
 *
 * <p>Records are decoded as they arrive. One that is not a {@code QueuedRequest} is
 * dead-lettered. One that cannot be decoded because the schema registry is unreachable is not
 * bad: its partition is rewound to it and paused with a growing backoff, and nothing past it is
 * committed. Records listed as finished in the metadata of the commit the partition was taken
 * over at are skipped: a previous owner already published their outcomes.
 *
 * <p>A crash may therefore re-run only calls whose outcomes were not committed yet; their
 * outcomes were written in a transaction that is aborted, so only the re-run's outcome is ever
 * read. When a transaction cannot be committed it is aborted, and every owned partition is
 * taken again from its committed offset under a new assignment number (a rewind): calls still
 * running from before publish nothing.
 */
public final class WorkerLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLoop.class);
    private static final Duration POLL = Duration.ofMillis(20);
    private static final long FIRST_BACKOFF_MS = 100;

    /**
     * @param shutdownGrace          how long in-flight calls may finish when stopping
     * @param commitInterval         least time between two asynchronous commits
     * @param commitMetadataMaxChars longest commit metadata (0: none)
     * @param registryBackoffMax     longest pause of a partition whose record waits for the schema registry
     */
    public record Options(Duration shutdownGrace, Duration commitInterval, int commitMetadataMaxChars,
                          Duration registryBackoffMax) {
    }

    private final Consumer<String, byte[]> consumer;
    private final Map<String, Priority> levels;
    private final AvroSerde<QueuedRequest> serde;
    private final Dispatcher dispatcher;
    private final Outcomes outcomes;
    private final OutcomeTransaction transaction;
    private final Options options;
    private final WorkerMetrics metrics;
    private final OffsetTracker tracker = new OffsetTracker();
    private final ConcurrentLinkedQueue<Finished> finished = new ConcurrentLinkedQueue<>();
    private final AtomicInteger deadLettering = new AtomicInteger();
    /*
     * The partitions this consumer owns are kept by the transaction, each with the number of the
     * assignment that gave it. A call still running when its partition was revoked may finish
     * after the partition came back; it must publish nothing and its offset must not count as
     * done then, since the records below it are being taken again, so each taken record carries
     * the assignment it was taken in.
     */
    /** Offsets a previous owner finished beyond the commit point it left. */
    private final Map<TopicPartition, OffsetRanges> skip = new HashMap<>();
    /** Partitions waiting for the schema registry: resume time (nanoTime) and failures so far. */
    private final Map<TopicPartition, long[]> registryBackoff = new HashMap<>();
    private long assignments;
    private long lastCommitNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Throwable fatal;

    private record Finished(Outcomes.Source source, boolean durable) {
    }

    /**
     * @param levels the queue topics and the level each holds
     */
    public WorkerLoop(Consumer<String, byte[]> consumer, Map<String, Priority> levels, AvroSerde<QueuedRequest> serde,
                      Dispatcher dispatcher, Outcomes outcomes, OutcomeTransaction transaction, Options options,
                      WorkerMetrics metrics) {
        this.consumer = consumer;
        this.levels = Map.copyOf(levels);
        this.serde = serde;
        this.dispatcher = dispatcher;
        this.outcomes = outcomes;
        this.transaction = transaction;
        this.options = options;
        this.metrics = metrics;
        dispatcher.finisher((p, durable) -> finished.add(new Finished(p, durable)));
    }

    @Override
    public void run() {
        try {
            transaction.begin();
            consumer.subscribe(levels.keySet(), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // what finished is committed with its outcomes; what did not runs again at the next owner
                    commit(true, partitions);
                    forget(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignments++;
                    transaction.own(partitions, assignments);
                    if (options.commitMetadataMaxChars() > 0) {
                        // the committed offsets are read only for their metadata: the consumer positions itself
                        loadSkips(partitions, committed(partitions));
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    // another consumer may own them already: nothing written for them may be committed now
                    transaction.abort(partitions + " lost");
                    forget(partitions);
                    Set<TopicPartition> kept = new HashSet<>(consumer.assignment());
                    kept.removeAll(partitions);
                    rewind(kept);
                    metrics.transactionAborted("partitions_lost", kept.size());
                }
            });
            while (running) {
                commit(false, Set.of());
                updatePauses(false);
                take(consumer.poll(POLL));
                dispatcher.pump();
            }
            finishInFlight();
        } catch (WakeupException e) {
            if (running) {
                fatal = e;
            }
            finishInFlight();
        } catch (RuntimeException e) {
            fatal = e;
            if (e instanceof ProducerFencedException || e.getCause() instanceof ProducerFencedException) {
                LOG.error("worker loop stopped: a newer producer with this worker's transactional id fenced it; "
                        + "another worker of the group runs with the same worker.id (each must be unique)", e);
            } else {
                LOG.error("worker loop failed", e);
            }
            dispatcher.close();
        } finally {
            transaction.close();
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("consumer did not close cleanly", e);
            }
            stopped.countDown();
        }
    }

    /** Forgets what was taken from {@code partitions}; the transaction no longer owns them. */
    private void forget(Collection<TopicPartition> partitions) {
        transaction.disown(partitions);
        tracker.revoked(partitions);
        partitions.forEach(tp -> {
            skip.remove(tp);
            registryBackoff.remove(tp);
        });
        Set<TopicPartition> gone = new HashSet<>(partitions);
        dispatcher.drop(p -> gone.contains(p.tp()));
    }

    /**
     * Takes {@code partitions} again from their committed offsets under a new assignment number,
     * after the transaction with their latest outcomes was aborted: every record taken since the
     * last commit runs again, and calls still running from before publish nothing.
     */
    private void rewind(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        forget(partitions);
        Map<TopicPartition, OffsetAndMetadata> committed = committed(partitions);
        if (committed == null) {
            throw new IllegalStateException("cannot read the committed offsets of " + partitions
                    + " to take them again after an aborted outcome transaction");
        }
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata om = committed.get(tp);
            if (om == null) {
                fromStart.add(tp);
            } else {
                consumer.seek(tp, om.offset());
            }
        }
        if (!fromStart.isEmpty()) {
            // nothing committed yet: the group starts such partitions at the beginning (auto.offset.reset=earliest)
            consumer.seekToBeginning(fromStart);
        }
        assignments++;
        transaction.own(partitions, assignments);
        loadSkips(partitions, committed);
        LOG.warn("took {} partitions again from their committed offsets: {}", partitions.size(), partitions);
    }

    /** The committed offsets of {@code partitions}, or null when they cannot be read. */
    private Map<TopicPartition, OffsetAndMetadata> committed(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        try {
            return consumer.committed(new HashSet<>(partitions), Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("cannot read the committed offsets of {}: {}", partitions, e.toString());
            return null;
        }
    }

    private void loadSkips(Collection<TopicPartition> partitions, Map<TopicPartition, OffsetAndMetadata> committed) {
        if (committed == null || options.commitMetadataMaxChars() == 0) {
            // without the metadata those records simply run again
            return;
        }
        committed.forEach((tp, om) -> {
            if (om != null && partitions.contains(tp)) {
                OffsetRanges done = CommitMetadata.decode(om.offset(), om.metadata());
                if (!done.isEmpty()) {
                    skip.put(tp, done);
                    LOG.info("{}: {} records past the committed offset {} were finished by the previous owner; "
                            + "they are skipped", tp, done.count(), om.offset());
                }
            }
        });
    }

    private void take(ConsumerRecords<String, byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        Set<TopicPartition> rewound = new HashSet<>();
        boolean registryTrouble = false;
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (rewound.contains(tp)) {
                continue;
            }
            if (registryTrouble || !receive(tp, r)) {
                // at most one wait for an unreachable registry per poll: the rest of the batch is read again later
                consumer.seek(tp, r.offset());
                rewound.add(tp);
                if (!registryTrouble) {
                    registryTrouble = true;
                    long[] b = registryBackoff.computeIfAbsent(tp, k -> new long[2]);
                    long delay = Math.min(options.registryBackoffMax().toMillis(), FIRST_BACKOFF_MS << Math.min(20, b[1]));
                    b[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
                    b[1]++;
                    LOG.warn("{}@{}: schema registry unavailable, not dead-lettering; retrying in {} ms", tp,
                            r.offset(), delay);
                }
            }
        }
    }

    /** Takes one record; false when it must be read again later because the schema registry is unavailable. */
    private boolean receive(TopicPartition tp, ConsumerRecord<String, byte[]> r) {
        long assignment = transaction.assignment(tp);
        OffsetRanges done = skip.get(tp);
        if (done != null && done.contains(r.offset())) {
            tracker.received(tp, r.offset());
            tracker.finished(tp, r.offset());
            metrics.request("skipped");
            return true;
        }
        QueuedRequest q;
        try {
            q = serde.deserialize(r.topic(), r.value());
            if (q == null) {
                throw new IllegalArgumentException("empty value");
            }
        } catch (RuntimeException e) {
            if (RegistryOutage.isCause(e)) {
                return false;
            }
            registryBackoff.remove(tp);
            LOG.warn("dead-lettering undecodable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
            metrics.request("undecodable");
            tracker.received(tp, r.offset());
            deadLettering.incrementAndGet();
            Outcomes.Source source = Outcomes.Source.of(tp, assignment, r.offset());
            CompletableFuture<Void> dl = outcomes.undecodable(source, r.key(), r.value(), e, Instant.now());
            dl.whenComplete((v, error) -> {
                if (error != null && !(error instanceof StaleOutcome || error.getCause() instanceof StaleOutcome)) {
                    LOG.error("dead letter of {}@{} not durable; it will be read again after a restart", tp, r.offset(),
                            error);
                }
                finished.add(new Finished(source, error == null));
                deadLettering.decrementAndGet();
            });
            return true;
        }
        registryBackoff.remove(tp);
        tracker.received(tp, r.offset());
        dispatcher.offer(levels.getOrDefault(r.topic(), q.getPriority()),
                new Pending(tp, assignment, r.offset(), q, System.nanoTime()));
        return true;
    }

    private void updatePauses(boolean all) {
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        Map<Priority, Boolean> full = new HashMap<>();
        Set<TopicPartition> want = new HashSet<>();
        for (TopicPartition tp : assigned) {
            Priority level = levels.get(tp.topic());
            long[] b = registryBackoff.get(tp);
            if (all || (level != null && full.computeIfAbsent(level, dispatcher::full))
                    || (b != null && b[0] - now > 0)) {
                want.add(tp);
            }
        }
        Set<TopicPartition> paused = consumer.paused();
        Set<TopicPartition> pause = new HashSet<>(want);
        pause.removeAll(paused);
        Set<TopicPartition> resume = new HashSet<>(paused);
        resume.retainAll(assigned);
        resume.removeAll(want);
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
    }

    private void drainFinished() {
        Finished f;
        while ((f = finished.poll()) != null) {
            if (f.durable()) {
                finish(f.source());
            }
        }
    }

    /** Marks a record finished if its partition is still owned under the assignment it was taken in. */
    private void finish(Outcomes.Source s) {
        if (transaction.owns(s.tp(), s.assignment())) {
            tracker.finished(s.tp(), s.offset());
        }
    }

    /**
     * Commits the open transaction with the offsets finished so far (at most once per commit
     * interval unless {@code force}), then gives up {@code thenDisown}. When the transaction
     * cannot be committed it is aborted and every partition still assigned is rewound.
     */
    private void commit(boolean force, Collection<TopicPartition> thenDisown) {
        long now = System.nanoTime();
        if (!force && now - lastCommitNanos < options.commitInterval().toNanos()) {
            return;
        }
        lastCommitNanos = now;
        try {
            transaction.commit(carried -> {
                drainFinished();
                // the outcomes this transaction carries finish their records now, whether or not their futures have
                // reported yet (a second report of the same offset is ignored)
                carried.forEach(this::finish);
                return tracker.commitable(options.commitMetadataMaxChars());
            }, consumer.groupMetadata(), thenDisown);
        } catch (OutcomeTransaction.Aborted e) {
            LOG.warn("{}; the records taken since the last commit run again", e.getMessage());
            Set<TopicPartition> kept = new HashSet<>(consumer.assignment());
            kept.removeAll(thenDisown);
            forget(thenDisown);
            rewind(kept);
            metrics.transactionAborted("commit_failed", kept.size());
        }
    }

    private void finishInFlight() {
        dispatcher.close();
        long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
        while ((dispatcher.unresolved() > 0 || deadLettering.get() > 0) && System.nanoTime() < deadline) {
            commit(false, Set.of());
            try {
                updatePauses(true);
                consumer.poll(POLL);
            } catch (WakeupException e) {
                break;
            }
        }
        int handedBack = dispatcher.handBack();
        commit(true, Set.of());
        if (handedBack > 0) {
            LOG.warn("{} calls still in flight after the shutdown grace of {}; handed back: their records will be "
                    + "taken again", handedBack, options.shutdownGrace());
        }
    }

    /** Records taken and not yet finished (buffered, running or being written). */
    public int unfinished() {
        return dispatcher.unresolved();
    }

    /** Null while healthy. */
    public Throwable fatal() {
        return fatal;
    }

    /** Stops taking work, lets in-flight calls finish within the grace period, commits, and returns. */
    public void stop() {
        running = false;
        try {
            if (!stopped.await(options.shutdownGrace().toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
                consumer.wakeup();
                stopped.await(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
