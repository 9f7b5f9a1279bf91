package llmq.bench.rig;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * The collections this JVM ran and the time they took since a start point: the system under test shares
 * the harness's JVM, so its collections land in the measured latencies. A scenario reports them beside each
 * measured run, so a reader can tell a pipeline that got slower from a heap that collected more often.
 */
public final class GcPauses {

    private final long startCount;
    private final long startMillis;
    private final long startNanos;

    private GcPauses(long count, long millis) {
        this.startCount = count;
        this.startMillis = millis;
        this.startNanos = System.nanoTime();
    }

    /** Counts from now. */
    public static GcPauses start() {
        return new GcPauses(count(), millis());
    }

    /** What ran since {@link #start()}. */
    public Since since() {
        return new Since(count() - startCount, millis() - startMillis, (System.nanoTime() - startNanos) / 1e9);
    }

    /** Collections and their total time over {@code seconds} of wall time. */
    public record Since(long collections, long millis, double seconds) {

        /** Collections per second of wall time. */
        public double perSecond() {
            return seconds <= 0 ? 0 : collections / seconds;
        }

        /** Mean time of one collection, ms. */
        public double meanMillis() {
            return collections == 0 ? 0 : (double) millis / collections;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d collections (%.1f/s, mean %.1f ms, %d ms in all)", collections, perSecond(),
                    meanMillis(), millis);
        }
    }

    private static List<GarbageCollectorMXBean> beans() {
        return ManagementFactory.getGarbageCollectorMXBeans();
    }

    private static long count() {
        return beans().stream().mapToLong(b -> Math.max(0, b.getCollectionCount())).sum();
    }

    private static long millis() {
        return beans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
    }
}
