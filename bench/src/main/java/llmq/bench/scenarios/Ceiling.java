package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import llmq.bench.RunContext;
import llmq.bench.report.Result;

/**
 * Kafka's producer ceiling for the throughput ratios: measured again by each throughput scenario on
 * its own broker just before it loads it ({@link #here}), so a ratio's two sides come from the same
 * minutes; the baseline scenario's ceiling, from the start of the run, is what {@link
 * #producerRecordsPerSecond} reads (from the same {@code bench/run} when there is one, otherwise the
 * latest baseline on disk, and the result says which).
 */
final class Ceiling {

    private Ceiling() {
    }

    /** Records/s of Kafka's ProducerPerformance, if a baseline result exists; notes its origin in {@code result}. */
    static Optional<Double> producerRecordsPerSecond(RunContext ctx, Result result) {
        Optional<ObjectNode> baseline = ctx.results().readLatest("baseline");
        if (baseline.isEmpty() || !"ok".equals(baseline.get().path("status").asText())) {
            result.note("no baseline result: run the baseline scenario first for the ratio to Kafka's producer ceiling");
            return Optional.empty();
        }
        ObjectNode b = baseline.get();
        double v = b.path("details").path("producer_performance").path("records_per_second").asDouble(Double.NaN);
        if (Double.isNaN(v)) {
            return Optional.empty();
        }
        String run = b.path("run_id").asText();
        result.config().put("ceiling_from_run", run);
        if (!run.equals(ctx.runId())) {
            result.note("the ratio to Kafka's ceiling uses the baseline of run " + run + " (" + b.path("date").asText()
                    + "), not one measured in this run");
        }
        return Optional.of(v);
    }

    /**
     * Kafka's ProducerPerformance on {@code bootstrap} now (a warm-up round, then the median of three of
     * 200 000 records; one of 20 000 in quick mode), recorded in {@code result}'s details as
     * {@code producer_ceiling_here}, with the baseline's ceiling beside it for comparison.
     */
    static double here(RunContext ctx, Result result, String bootstrap) throws Exception {
        ctx.log("Kafka's producer ceiling on this broker, now (the ratio's denominator)");
        ProducerCeiling.Measured m = ProducerCeiling.measure(ctx, bootstrap, ctx.param("ceiling-records", 200_000, 20_000),
                1024, ctx.param("ceiling-rounds", 3, 1), "here");
        ObjectNode d = result.details().putObject("producer_ceiling_here");
        d.put("what", "Kafka ProducerPerformance on this scenario's broker just before the load: 1024 B, acks=all, "
                + "llmq's producer settings, 6 partitions; a warm-up round, then the median");
        d.set("rounds_records_per_second", llmq.common.json.Json.mapper().valueToTree(m.rounds()));
        d.put("records_per_second", m.recordsPerSecond());
        producerRecordsPerSecond(ctx, result).ifPresent(b -> d.put("baseline_records_per_second", b));
        ctx.log("  ceiling here: %.0f records/s", m.recordsPerSecond());
        return m.recordsPerSecond();
    }
}
