package llmq.worker.schedule;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import llmq.avro.Priority;
import llmq.common.config.ConfigException;

/**
 * The worker's look-ahead: one bounded FIFO per priority level, and the weighted fair choice of
 * the level whose head runs next. Not thread-safe; the dispatcher guards it.
 *
 * <p>The choice is stride scheduling (Waldspurger and Weihl, 1995): each level has a pass
 * value that grows by {@code STRIDE / weight} every time the level is served, and the
 * non-empty level with the lowest pass goes next (ties to the more urgent level). With every
 * level backlogged the service split is exactly the weights' ratio over each cycle of
 * {@code sum(weights)} picks; an empty level is skipped, so its share goes to the others
 * (work-conserving). A level that becomes non-empty again has its pass lifted to the current
 * virtual time, so idling banks no credit, and capped at one stride beyond it, so a burst long
 * ago is no debt either.
 *
 * <p>Capacity: {@link #full(Priority)} says when a level holds its capacity; the consumer then
 * pauses that level's partitions, which bounds the buffer at capacity plus one poll's records.
 */
public final class FairQueue<T> {

    private static final long STRIDE = 1L << 40;

    private final Map<Priority, ArrayDeque<T>> queues = new EnumMap<>(Priority.class);
    private final Map<Priority, Integer> weights;
    private final long[] pass = new long[Priority.values().length];
    private final long[] stride = new long[Priority.values().length];
    private final int capacity;
    private long virtualTime;
    private int size;

    /** A head that was admitted: its level, the item, and what the admission produced. */
    public record Admitted<T, R>(Priority level, T item, R admission) {
    }

    /**
     * @param weights  weight of each level (all four, each at least 1)
     * @param capacity items per level before {@link #full} says so
     */
    public FairQueue(Map<Priority, Integer> weights, int capacity) {
        if (capacity < 1) {
            throw new ConfigException("worker.buffer.per-level", Integer.toString(capacity), "must be at least 1");
        }
        this.weights = new EnumMap<>(weights);
        for (Priority p : Priority.values()) {
            Integer w = weights.get(p);
            if (w == null || w < 1) {
                throw new ConfigException("worker.weights." + p.name().toLowerCase(java.util.Locale.ROOT),
                        String.valueOf(w), "must be at least 1");
            }
            stride[p.ordinal()] = STRIDE / w;
            queues.put(p, new ArrayDeque<>());
        }
        this.capacity = capacity;
    }

    /** The configured weights. */
    public Map<Priority, Integer> weights() {
        return new EnumMap<>(weights);
    }

    public int capacity() {
        return capacity;
    }

    /** Appends {@code item} to its level's FIFO. */
    public void offer(Priority level, T item) {
        ArrayDeque<T> q = queues.get(level);
        if (q.isEmpty()) {
            int i = level.ordinal();
            pass[i] = Math.min(Math.max(pass[i], virtualTime), virtualTime + stride[i]);
        }
        q.addLast(item);
        size++;
    }

    /**
     * Takes the head of the level that is due, provided {@code admit} accepts it. Levels are
     * tried in order of their pass; a level whose head {@code admit} refuses (returns null, e.g.
     * no endpoint can take it now) is skipped this time without being charged.
     *
     * @return the admitted head, or null when every level is empty or refused
     */
    public <R> Admitted<T, R> pollNext(Function<? super T, ? extends R> admit) {
        boolean[] tried = new boolean[pass.length];
        while (true) {
            Priority due = null;
            for (Priority p : Priority.values()) {
                int i = p.ordinal();
                if (!tried[i] && !queues.get(p).isEmpty() && (due == null || pass[i] < pass[due.ordinal()])) {
                    due = p;
                }
            }
            if (due == null) {
                return null;
            }
            int i = due.ordinal();
            tried[i] = true;
            ArrayDeque<T> q = queues.get(due);
            R admission = admit.apply(q.peekFirst());
            if (admission != null) {
                T item = q.pollFirst();
                size--;
                virtualTime = Math.max(virtualTime, pass[i]);
                pass[i] += stride[i];
                return new Admitted<>(due, item, admission);
            }
        }
    }

    /** Items of {@code level} waiting. */
    public int size(Priority level) {
        return queues.get(level).size();
    }

    /** Items waiting in all levels. */
    public int size() {
        return size;
    }

    /** True when {@code level} holds its capacity (its partitions should be paused). */
    public boolean full(Priority level) {
        return queues.get(level).size() >= capacity;
    }

    /** Removes every waiting item matching {@code filter} (e.g. of revoked partitions); returns how many. */
    public int removeIf(Predicate<? super T> filter) {
        int removed = 0;
        for (ArrayDeque<T> q : queues.values()) {
            int before = q.size();
            q.removeIf(filter);
            removed += before - q.size();
        }
        size -= removed;
        return removed;
    }
}
