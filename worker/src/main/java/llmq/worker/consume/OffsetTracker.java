package llmq.worker.consume;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets of each partition are still unfinished (taken from Kafka but without a durable
 * outcome: buffered, running, or being written), so that the committed offset never passes
 * one: per partition the commit point is the lowest unfinished offset, or one past the highest
 * finished when none is unfinished. The finished offsets beyond the commit point go into the
 * commit's metadata ({@link CommitMetadata}), so a successor skips them. Not thread-safe: the
 * consumer thread owns it.
 */
public final class OffsetTracker {

    private static final class Partition {
        final TreeSet<Long> open = new TreeSet<>();
        /** Finished offsets above the lowest open one when they finished. */
        final TreeSet<Long> done = new TreeSet<>();
        long next = -1;
        long committedPoint = -1;
        String committedMetadata = "";
    }

    private final Map<TopicPartition, Partition> partitions = new HashMap<>();

    /** A record was taken from Kafka. */
    public void received(TopicPartition tp, long offset) {
        partitions.computeIfAbsent(tp, k -> new Partition()).open.add(offset);
    }

    /** A record's outcome is durable. Offsets never received (or from a revoked assignment) are ignored. */
    public void finished(TopicPartition tp, long offset) {
        Partition p = partitions.get(tp);
        if (p == null || !p.open.remove(offset)) {
            return;
        }
        p.next = Math.max(p.next, offset + 1);
        if (!p.open.isEmpty() && offset > p.open.first()) {
            p.done.add(offset);
        }
    }

    /** Unfinished records across all partitions. */
    public int unfinished() {
        return partitions.values().stream().mapToInt(p -> p.open.size()).sum();
    }

    /** Offsets to commit now without metadata (see {@link #commitable(int)}). */
    public Map<TopicPartition, OffsetAndMetadata> commitable() {
        return commitable(0);
    }

    /**
     * Offsets to commit now: only partitions whose commit point or finished-beyond set changed
     * since the last call.
     *
     * @param maxMetadataChars the longest metadata to write; 0 writes none
     */
    public Map<TopicPartition, OffsetAndMetadata> commitable(int maxMetadataChars) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (Map.Entry<TopicPartition, Partition> e : partitions.entrySet()) {
            Partition p = e.getValue();
            if (p.next < 0) {
                continue;
            }
            long point = p.open.isEmpty() ? p.next : Math.min(p.open.first(), p.next);
            p.done.headSet(point, true).clear();
            if (point < p.committedPoint) {
                continue;
            }
            String metadata = CommitMetadata.encode(point, p.done, maxMetadataChars);
            if (point != p.committedPoint || !metadata.equals(p.committedMetadata)) {
                out.put(e.getKey(), new OffsetAndMetadata(point, metadata));
                p.committedPoint = point;
                p.committedMetadata = metadata;
            }
        }
        return out;
    }

    /** Forgets partitions this consumer no longer owns. */
    public void revoked(Collection<TopicPartition> revoked) {
        revoked.forEach(partitions::remove);
    }

    /** True when {@code tp} has unfinished records. */
    public boolean busy(TopicPartition tp) {
        Partition p = partitions.get(tp);
        return p != null && !p.open.isEmpty();
    }
}
