package llmq.bench.stats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import llmq.common.json.Json;
import org.HdrHistogram.Histogram;

/** The harness's one histogram shape (microseconds, up to an hour, 3 significant digits) and its summary. */
public final class Latencies {

    /** Largest value a histogram holds: one hour in microseconds. */
    public static final long MAX_MICROS = 3_600_000_000L;

    private Latencies() {
    }

    /** A new histogram of microseconds. */
    public static Histogram histogram() {
        return new Histogram(MAX_MICROS, 3);
    }

    /** {@code micros} within what a histogram holds (negative clock skew → 0). */
    public static long clamp(long micros) {
        return Math.max(0, Math.min(MAX_MICROS, micros));
    }

    /** Count, p50, p90, p99, p99.9 and max in milliseconds (3 decimals). */
    public static ObjectNode summary(Histogram h) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("count", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return n;
        }
        n.put("p50_ms", ms(h.getValueAtPercentile(50)));
        n.put("p90_ms", ms(h.getValueAtPercentile(90)));
        n.put("p99_ms", ms(h.getValueAtPercentile(99)));
        n.put("p999_ms", ms(h.getValueAtPercentile(99.9)));
        n.put("max_ms", ms(h.getMaxValue()));
        return n;
    }

    /** {@code p}th percentile in milliseconds; NaN for an empty histogram. */
    public static double ms(Histogram h, double p) {
        return h.getTotalCount() == 0 ? Double.NaN : ms(h.getValueAtPercentile(p));
    }

    private static double ms(long micros) {
        return Math.round(micros) / 1000.0;
    }
}
