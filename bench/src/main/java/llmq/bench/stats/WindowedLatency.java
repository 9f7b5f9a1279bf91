package llmq.bench.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Latencies of several series (e.g. one per priority level) bucketed by the time they were
 * observed into windows of fixed length, so percentiles can be plotted over time. Thread-safe.
 * Values are microseconds.
 */
public final class WindowedLatency {

    /** One window's percentile of one series: the window's middle in seconds from the origin, value in ms. */
    public record Point(double seconds, double millis, long count) {
    }

    private final long originMillis;
    private final long windowMillis;
    private final Map<String, TreeMap<Long, Histogram>> series = new LinkedHashMap<>();

    /** Windows of {@code windowMillis} counted from {@code originMillis} (epoch ms). */
    public WindowedLatency(long originMillis, long windowMillis) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
        this.originMillis = originMillis;
        this.windowMillis = windowMillis;
    }

    /** Epoch ms of the first window's start. */
    public long originMillis() {
        return originMillis;
    }

    /** Records {@code micros} in {@code name}'s window containing {@code atMillis}; earlier times are ignored. */
    public synchronized void record(String name, long atMillis, long micros) {
        if (atMillis < originMillis) {
            return;
        }
        long w = (atMillis - originMillis) / windowMillis;
        series.computeIfAbsent(name, k -> new TreeMap<>())
                .computeIfAbsent(w, k -> Latencies.histogram())
                .recordValue(Latencies.clamp(micros));
    }

    /** The series names in the order first recorded. */
    public synchronized List<String> names() {
        return new ArrayList<>(series.keySet());
    }

    /** {@code name}'s {@code percentile} per window with at least {@code minCount} values. */
    public synchronized List<Point> percentile(String name, double percentile, long minCount) {
        List<Point> out = new ArrayList<>();
        TreeMap<Long, Histogram> windows = series.get(name);
        if (windows == null) {
            return out;
        }
        windows.forEach((w, h) -> {
            if (h.getTotalCount() >= minCount) {
                out.add(new Point((w + 0.5) * windowMillis / 1000.0, h.getValueAtPercentile(percentile) / 1000.0, h.getTotalCount()));
            }
        });
        return out;
    }

    /**
     * The median over windows of {@code name}'s per-window {@code percentile} (windows with at least
     * {@code minCount} values), in ms; NaN when no window qualifies. A p99 over a whole run is set by
     * its worst second (one GC pause, one slow commit); this is the p99 of a typical second, which
     * two runs of the same system reproduce.
     */
    public double medianOverWindows(String name, double percentile, long minCount) {
        List<Double> values = new ArrayList<>();
        for (Point p : percentile(name, percentile, minCount)) {
            values.add(p.millis());
        }
        return values.isEmpty() ? Double.NaN : Median.of(values);
    }
}
