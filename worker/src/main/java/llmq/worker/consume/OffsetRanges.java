package llmq.worker.consume;

import java.util.Map;
import java.util.TreeMap;

/** A set of offsets held as disjoint half-open ranges, so that long runs cost one entry. */
public final class OffsetRanges {

    /** start → end (exclusive). */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    /** Adds {@code [start, end)}; ranges must be added in increasing, non-overlapping order. */
    void add(long start, long end) {
        if (end > start) {
            ranges.put(start, end);
        }
    }

    public boolean contains(long offset) {
        Map.Entry<Long, Long> e = ranges.floorEntry(offset);
        return e != null && offset < e.getValue();
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    /** Number of offsets held. */
    public long count() {
        long n = 0;
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            n += e.getValue() - e.getKey();
        }
        return n;
    }

    @Override
    public String toString() {
        return ranges.toString();
    }
}
