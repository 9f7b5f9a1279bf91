package llmq.ingest.status;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.topics.catalog.TopicCatalog;

/**
 * Throughput and waiting time per level over a recent window, as the status view's fold sees the
 * events of this instance's partitions: requests accepted and finished per second, and the wait
 * from acceptance to the first start (accepted → started, first attempts). Kept in memory
 * (per-second counters and at most {@value #MAX_SAMPLES} wait samples per level); the instances'
 * {@link Sample}s are merged to answer {@code GET /v1/queues} for the whole deployment.
 */
public final class QueueStats {

    static final int MAX_SAMPLES = 10_000;

    /** One instance's raw figures for one level (mergeable). */
    public record LevelSample(long accepted, long finished, long[] waitsMs) {
    }

    /** One instance's raw figures. */
    public record Sample(long windowSeconds, Map<String, LevelSample> levels) {
    }

    /** The merged view of one level. */
    public record LevelView(double acceptedPerSecond, double finishedPerSecond, Long waitP50Ms, Long waitP90Ms,
                            Long waitP99Ms, int waitSamples) {
    }

    private final class Level {
        final long[] accepted;
        final long[] finished;
        final long[] second;
        final ArrayDeque<long[]> waits = new ArrayDeque<>();

        Level(int seconds) {
            accepted = new long[seconds];
            finished = new long[seconds];
            second = new long[seconds];
            Arrays.fill(second, -1);
        }

        int slot(long nowSecond) {
            int i = (int) (nowSecond % second.length);
            if (second[i] != nowSecond) {
                second[i] = nowSecond;
                accepted[i] = 0;
                finished[i] = 0;
            }
            return i;
        }

        long sum(long[] counts, long nowSecond) {
            long n = 0;
            for (int i = 0; i < second.length; i++) {
                if (second[i] > nowSecond - second.length && second[i] <= nowSecond) {
                    n += counts[i];
                }
            }
            return n;
        }

        void prune(long nowMillis) {
            while (!waits.isEmpty() && (waits.peekFirst()[0] < nowMillis - windowMillis || waits.size() > MAX_SAMPLES)) {
                waits.pollFirst();
            }
        }
    }

    private final long windowMillis;
    private final LongSupplier clock;
    private final Map<Priority, Level> levels = new EnumMap<>(Priority.class);

    public QueueStats(java.time.Duration window, LongSupplier clockMillis) {
        this.windowMillis = window.toMillis();
        this.clock = clockMillis;
        int seconds = (int) Math.max(1, window.toSeconds());
        for (Priority p : Priority.values()) {
            levels.put(p, new Level(seconds));
        }
    }

    /** Records what one folded event means: an acceptance, a first start (with its wait), an end. */
    public synchronized void observe(RequestStatus before, RequestStatus after, RequestEvent e) {
        if (after == null || e == null) {
            return;
        }
        long now = clock.getAsLong();
        Priority p = priority(after.getPriority());
        if (p == null) {
            return;
        }
        Level level = levels.get(p);
        int slot = level.slot(now / 1000);
        if (e.getType() == EventType.ACCEPTED && (before == null || before.getAcceptedAt() == null)) {
            level.accepted[slot]++;
        } else if (e.getType() == EventType.STARTED && (before == null || before.getStartedAt() == null)
                && after.getAcceptedAt() != null && (e.getAttempt() == null || e.getAttempt() <= 1)) {
            level.waits.addLast(new long[] {now, Math.max(0, e.getAt().toEpochMilli() - after.getAcceptedAt().toEpochMilli())});
            level.prune(now);
        } else if (StatusFold.isFinal(after.getState()) && (before == null || !StatusFold.isFinal(before.getState()))) {
            level.finished[slot]++;
        }
    }

    /** This instance's figures over the window ending now. */
    public synchronized Sample sample() {
        long now = clock.getAsLong();
        Map<String, LevelSample> out = new LinkedHashMap<>();
        for (Map.Entry<Priority, Level> e : levels.entrySet()) {
            Level l = e.getValue();
            l.prune(now);
            long[] waits = l.waits.stream().mapToLong(w -> w[1]).toArray();
            out.put(TopicCatalog.level(e.getKey()), new LevelSample(l.sum(l.accepted, now / 1000),
                    l.sum(l.finished, now / 1000), waits));
        }
        return new Sample(windowMillis / 1000, out);
    }

    /** The instances' figures merged: rates per second over the window and wait percentiles (nearest rank). */
    public static Map<String, LevelView> merge(Collection<Sample> samples) {
        Map<String, LevelView> out = new LinkedHashMap<>();
        long window = samples.stream().mapToLong(Sample::windowSeconds).max().orElse(1);
        for (Priority p : Priority.values()) {
            String name = TopicCatalog.level(p);
            long accepted = 0;
            long finished = 0;
            List<long[]> waits = new ArrayList<>();
            for (Sample s : samples) {
                LevelSample l = s.levels().get(name);
                if (l != null) {
                    accepted += l.accepted();
                    finished += l.finished();
                    waits.add(l.waitsMs());
                }
            }
            long[] all = waits.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            out.put(name, new LevelView(round(accepted / (double) window), round(finished / (double) window),
                    percentile(all, 50), percentile(all, 90), percentile(all, 99), all.length));
        }
        return out;
    }

    static Long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return null;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static Priority priority(String level) {
        if (level == null) {
            return null;
        }
        for (Priority p : Priority.values()) {
            if (TopicCatalog.level(p).equals(level)) {
                return p;
            }
        }
        return null;
    }
}
