package llmq.worker.outcome;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's transactional producer, and which queue partitions it still owns. Outcomes are
 * written into the open Kafka transaction from any thread; the consumer thread commits that
 * transaction together with the source offsets the outcomes finished ({@link #commit}). An
 * outcome and the offset that says it is done therefore become visible together or not at all:
 * a worker killed between the two leaves neither, and its successor's run of the record is the
 * only one anybody reads.
 *
 * <p>An outcome is written only while the partition of its record is still owned under the
 * assignment it was taken in. A call that outlives its partition (revoked, lost, or rewound
 * after an aborted transaction) publishes nothing: the record's new owner runs it again from
 * the committed offset, and that run's outcome is the one that counts. The check and the writes
 * happen under a read lock; commits, aborts and ownership changes under the write lock, so no
 * write can fall between a commit and the ownership change that follows it.
 *
 * <p>Never write from the producer's own I/O thread (a send callback): {@link #commit} flushes
 * under the write lock, and a writer waiting for the read lock there would never be flushed.
 */
public final class OutcomeTransaction {

    private static final Logger LOG = LoggerFactory.getLogger(OutcomeTransaction.class);
    private static final int COMMIT_TIMEOUT_RETRIES = 5;

    private final Producer<String, byte[]> producer;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Owned partitions and the number of the assignment that gave each. */
    private final Map<TopicPartition, Long> owned = new ConcurrentHashMap<>();
    /** Records were written into the open transaction (guarded by the read/write lock pair). */
    private volatile boolean written;
    /** Final outcomes written into the open transaction, with the acknowledgements of their records. */
    private final ConcurrentLinkedQueue<Final> finals = new ConcurrentLinkedQueue<>();
    private boolean begun;

    public OutcomeTransaction(Producer<String, byte[]> producer) {
        this.producer = producer;
    }

    /** Registers the transactional id (aborting whatever a predecessor with the same id left open) and begins. */
    public void begin() {
        exclusively(() -> {
            producer.initTransactions();
            producer.beginTransaction();
            begun = true;
        });
    }

    /** The number of the assignment {@code tp} is owned under, or -1. */
    public long assignment(TopicPartition tp) {
        return owned.getOrDefault(tp, -1L);
    }

    /** True while {@code tp} is owned under {@code assignment}. */
    public boolean owns(TopicPartition tp, long assignment) {
        Long a = owned.get(tp);
        return a != null && a == assignment;
    }

    /** Takes ownership of {@code partitions} under {@code assignment} (called on the consumer thread). */
    public void own(Collection<TopicPartition> partitions, long assignment) {
        exclusively(() -> partitions.forEach(tp -> owned.put(tp, assignment)));
    }

    /** Gives up {@code partitions}: outcomes of their records taken so far are no longer written. */
    public void disown(Collection<TopicPartition> partitions) {
        exclusively(() -> partitions.forEach(owned::remove));
    }

    /**
     * Writes {@code records} into the open transaction if {@code source}'s partition is still
     * owned under its assignment. The future completes when Kafka has acknowledged every record
     * (they become visible when the transaction commits); it fails with {@link StaleOutcome}
     * when nothing was written because the record is no longer this worker's.
     */
    public CompletableFuture<Void> send(Outcomes.Source source, boolean finishes,
                                        List<ProducerRecord<String, byte[]>> records) {
        lock.readLock().lock();
        try {
            if (!owns(source.tp(), source.assignment())) {
                return CompletableFuture.failedFuture(new StaleOutcome(source));
            }
            CompletableFuture<?>[] acks = new CompletableFuture<?>[records.size()];
            for (int i = 0; i < acks.length; i++) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                acks[i] = f;
                // set before the send: a send that throws (a fenced or failed producer) must still make the next
                // commit try, so that its failure surfaces there and is aborted or stops the loop
                written = true;
                try {
                    producer.send(records.get(i), (md, e) -> {
                        if (e != null) {
                            f.completeExceptionally(e);
                        } else {
                            f.complete(null);
                        }
                    });
                } catch (RuntimeException e) {
                    // e.g. the producer is closed or failed: the outcome is not durable, and the caller must know it
                    f.completeExceptionally(e);
                }
            }
            if (finishes) {
                finals.add(new Final(source, acks));
            }
            return CompletableFuture.allOf(acks);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Commits the open transaction with the source offsets {@code offsets} gives, then gives up
     * {@code thenDisown}, then begins the next transaction; all while no outcome is being written.
     * The producer is flushed before {@code offsets} is asked, and {@code offsets} is given the
     * sources of the final outcomes this transaction carries (every one acknowledged by then):
     * their offsets must be among those it returns, or the record runs again. Nothing is
     * committed when nothing was written and there are no offsets.
     *
     * @throws Aborted when the transaction could not be committed: it was aborted, every
     *                 outcome written in it is gone, and every partition was given up (the
     *                 caller takes those it still has again from their committed offsets)
     * @throws KafkaException when the producer cannot go on (fenced by another worker with the
     *                        same id, or failed for good)
     */
    public void commit(Function<List<Outcomes.Source>, Map<TopicPartition, OffsetAndMetadata>> offsets,
                       ConsumerGroupMetadata group,
                       Collection<TopicPartition> thenDisown) {
        lock.writeLock().lock();
        try {
            if (!begun) {
                thenDisown.forEach(owned::remove);
                return;
            }
            try {
                producer.flush();
                Map<TopicPartition, OffsetAndMetadata> commit = offsets.apply(acknowledgedFinals());
                if (!commit.isEmpty() || written) {
                    if (!commit.isEmpty()) {
                        producer.sendOffsetsToTransaction(commit, group);
                    }
                    commitRetryingTimeouts();
                    producer.beginTransaction();
                    written = false;
                }
                thenDisown.forEach(owned::remove);
            } catch (KafkaException e) {
                throw abortLocked(e);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Aborts the open transaction (its outcomes are gone) and gives up every partition, e.g.
     * when the group took partitions away before their outcomes could be committed.
     *
     * @throws KafkaException when the producer cannot go on
     */
    public void abort(String why) {
        lock.writeLock().lock();
        try {
            if (begun) {
                LOG.warn("aborting the outcome transaction: {}", why);
                abortLocked(new KafkaException(why));
            } else {
                owned.clear();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void commitRetryingTimeouts() {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                // the commit may still complete: it must be retried, not aborted (KafkaProducer#commitTransaction)
                if (attempt >= COMMIT_TIMEOUT_RETRIES) {
                    throw new KafkaException("the outcome transaction did not commit after " + attempt + " timeouts", e);
                }
                LOG.warn("outcome transaction commit timed out (attempt {}); retrying: {}", attempt, e.toString());
            }
        }
    }

    /** Aborts with the write lock held; returns the {@link Aborted} to throw, or throws when the producer is done. */
    private Aborted abortLocked(KafkaException cause) {
        owned.clear();
        written = false;
        finals.clear();
        try {
            producer.abortTransaction();
            producer.beginTransaction();
        } catch (KafkaException fatal) {
            begun = false;
            fatal.addSuppressed(cause);
            throw fatal;
        }
        return new Aborted(cause);
    }

    /**
     * Stops writing, after the last commit: the open transaction (empty, or holding outcomes that
     * will not be committed) is aborted, so that closing the producer does not wait for it.
     */
    public void close() {
        exclusively(() -> {
            owned.clear();
            if (begun) {
                begun = false;
                try {
                    producer.abortTransaction();
                } catch (KafkaException e) {
                    // the broker aborts it when it times out, or the next worker with this id at once
                    LOG.warn("could not abort the open outcome transaction: {}", e.toString());
                }
            }
        });
    }

    /**
     * The sources whose final outcomes this transaction carries, all of whose records Kafka has
     * acknowledged; taken with the write lock held, after the flush. They are known here, where
     * they were written, rather than from the outcome's future: that future completes on whichever
     * thread completes it last, possibly after the flush has returned, and a commit that missed
     * one committed its outcome without its offset, so the record ran again after a restart.
     */
    private List<Outcomes.Source> acknowledgedFinals() {
        List<Outcomes.Source> out = new ArrayList<>();
        Final f;
        while ((f = finals.poll()) != null) {
            boolean acked = true;
            for (CompletableFuture<?> a : f.acks()) {
                acked &= a.isDone() && !a.isCompletedExceptionally();
            }
            if (acked) {
                out.add(f.source());
            }
        }
        return out;
    }

    private record Final(Outcomes.Source source, CompletableFuture<?>[] acks) {
    }

    private void exclusively(Runnable change) {
        lock.writeLock().lock();
        try {
            change.run();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The open transaction was aborted and every partition given up. */
    public static final class Aborted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Aborted(Throwable cause) {
            super("outcome transaction aborted: " + cause, cause);
        }
    }
}
