package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import llmq.bench.RunContext;
import llmq.bench.report.Result;

/**
 * Kafka's producer ceiling as the baseline scenario measured it, for the throughput ratios of the
 * scenarios after it. Taken from the same {@code bench/run} when there is one; otherwise from the
 * latest baseline on disk, and the result says which.
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
}
