package llmq.worker.consume;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets of each partition are still being worked on, so that the committed offset
 * never passes an unfinished record: per partition the commit point is the lowest unfinished
 * offset, or one past the highest finished when nothing is in flight. Not thread-safe: the
 * consumer thread owns it.
 */
public final class OffsetTracker {

    private final Map<TopicPartition, TreeSet<Long>> inFlight = new HashMap<>();
    private final Map<TopicPartition, Long> nextAfterDone = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    /** A record was taken for work. */
    public void started(TopicPartition tp, long offset) {
        inFlight.computeIfAbsent(tp, k -> new TreeSet<>()).add(offset);
    }

    /** A record's outcome is durable. */
    public void finished(TopicPartition tp, long offset) {
        TreeSet<Long> s = inFlight.get(tp);
        if (s != null) {
            s.remove(offset);
        }
        nextAfterDone.merge(tp, offset + 1, Math::max);
    }

    /** Records in flight across all partitions. */
    public int inFlight() {
        return inFlight.values().stream().mapToInt(TreeSet::size).sum();
    }

    /** Offsets to commit now: only partitions whose commit point moved since the last call. */
    public Map<TopicPartition, OffsetAndMetadata> commitable() {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : nextAfterDone.entrySet()) {
            TopicPartition tp = e.getKey();
            TreeSet<Long> pending = inFlight.get(tp);
            long point = pending == null || pending.isEmpty() ? e.getValue() : Math.min(pending.first(), e.getValue());
            Long last = committed.get(tp);
            if (last == null || point > last) {
                out.put(tp, new OffsetAndMetadata(point));
                committed.put(tp, point);
            }
        }
        return out;
    }

    /** Forgets partitions this consumer no longer owns. */
    public void revoked(java.util.Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> {
            inFlight.remove(tp);
            nextAfterDone.remove(tp);
            committed.remove(tp);
        });
    }

    /** True when {@code tp} has records in flight. */
    public boolean busy(TopicPartition tp) {
        TreeSet<Long> s = inFlight.get(tp);
        return s != null && !s.isEmpty();
    }
}
