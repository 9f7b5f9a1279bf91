package llmq.bench.scenarios;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the summary lines Kafka's own {@code ProducerPerformance} and {@code EndToEndLatency} print. */
final class KafkaTools {

    static final String PRODUCER_PERFORMANCE = "org.apache.kafka.tools.ProducerPerformance";
    static final String END_TO_END_LATENCY = "org.apache.kafka.tools.EndToEndLatency";

    /**
     * "N records sent, X records/sec (Y MB/sec), A ms avg latency, B ms max latency, p50 ms 50th, ..., p999 ms 99.9th";
     * with {@code --warmup-records}, a second such line "N steady state records sent, ..." follows for the
     * records after the warm-up.
     */
    private static final Pattern PRODUCER = Pattern.compile(
            "(\\d+)(?: steady state)? records sent, ([\\d.]+) records/sec \\(([\\d.]+) MB/sec\\), ([\\d.]+) ms avg latency, ([\\d.]+) ms max latency,"
                    + " (\\d+) ms 50th, (\\d+) ms 95th, (\\d+) ms 99th, (\\d+) ms 99.9th");
    private static final Pattern E2E_AVG = Pattern.compile("Avg latency: ([\\d.]+) ms");
    private static final Pattern E2E_PERCENTILES = Pattern.compile("Percentiles: 50th = (\\d+), 99th = (\\d+), 99.9th = (\\d+)");

    /** ProducerPerformance's final summary. */
    record Producer(long records, double recordsPerSecond, double mbPerSecond, double avgMs, double maxMs,
                    long p50Ms, long p95Ms, long p99Ms, long p999Ms) {
    }

    /** EndToEndLatency's summary (whole milliseconds, as the tool prints them). */
    record EndToEnd(double avgMs, long p50Ms, long p99Ms, long p999Ms) {
    }

    private KafkaTools() {
    }

    /** The last summary line in {@code output} (the steady state's, with a warm-up); null if there is none. */
    static Producer producer(String output) {
        Matcher m = PRODUCER.matcher(output);
        Producer last = null;
        while (m.find()) {
            last = new Producer(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                    Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)), Long.parseLong(m.group(6)),
                    Long.parseLong(m.group(7)), Long.parseLong(m.group(8)), Long.parseLong(m.group(9)));
        }
        return last;
    }

    static EndToEnd endToEnd(String output) {
        Matcher avg = E2E_AVG.matcher(output);
        Matcher p = E2E_PERCENTILES.matcher(output);
        if (!avg.find() || !p.find()) {
            return null;
        }
        return new EndToEnd(Double.parseDouble(avg.group(1)), Long.parseLong(p.group(1)), Long.parseLong(p.group(2)),
                Long.parseLong(p.group(3)));
    }
}
