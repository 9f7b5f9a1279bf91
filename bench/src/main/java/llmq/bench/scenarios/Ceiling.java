package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import llmq.bench.RunContext;
import llmq.bench.report.Result;
import llmq.bench.rig.CompilerPriority;
import llmq.bench.rig.Jit;
import llmq.bench.stats.Median;

/**
 * Kafka's producer ceiling for the throughput ratios: measured again by each throughput scenario on
 * its own broker before and after it loads it ({@link #around}), so a ratio's two sides come from the
 * same minutes; the baseline scenario's ceiling, from the start of the run, is what {@link
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

    /** A measurement that the ceiling is taken around. */
    @FunctionalInterface
    interface Measurement<T> {
        T run() throws Exception;
    }

    /** What {@link #around} returns: the measurement's own result and the ceiling of the same minutes. */
    record Around<T>(T measured, double ceiling) {
    }

    /**
     * Kafka's ProducerPerformance on {@code bootstrap} before and after {@code measurement} (warm-up
     * rounds until the JIT is quiet, three rounds before, three after; 200 000 records each, the rate of
     * the last 100 000 taken; one round of 30 000 each side in quick mode):
     * the ceiling is the median of the six, so it spans the minutes the measurement took. For a
     * measurement of a minute or more, a ceiling taken only before it missed the machine's drift during
     * it. Recorded in {@code result}'s details as {@code producer_ceiling_here}.
     */
    static <T> Around<T> around(RunContext ctx, Result result, String bootstrap, Measurement<T> measurement) throws Exception {
        // 200 000 records, the rate of the last 100 000 (300 000 and 200 000 until run 20261205-010740): about 1.2 s a round
        // at this machine's rates, so a ceiling of six rounds costs half a minute less of the suite's 15
        int records = ctx.param("ceiling-records", 200_000, 30_000);
        int warmupRecords = ctx.param("ceiling-warmup-records", 100_000, 10_000);
        // three each side: with two, one round of 36 000 records/s among 49 000-63 000 moved a ceiling by a sixth
        int rounds = ctx.param("ceiling-rounds", 3, 1);
        String topic = ProducerCeiling.topic(bootstrap, "around");
        ctx.log("Kafka's producer ceiling on this broker, before the measurement (warm-up rounds until the JIT is quiet, then %d)",
                rounds);
        // the broker runs in this JVM and its JIT warms up with the load: in one run the rounds read 29 000 (warm-up), 36 000
        // and 48 000 records/s before the measurement and 63 000 and 77 000 after it. So warm-up rounds (with the compilers
        // at a raised priority) go on until one in which this JVM's JIT compiled for at most a tenth of the round, at most
        // ceiling-warmup-max-rounds. Until run 20261205-010740 they went on until two in a row agreed within 10 %, which a
        // warm broker's own round-to-round spread (99 000-135 000 records/s in six rounds) kept from happening
        int warmMax = ctx.param("ceiling-warmup-max-rounds", 6, 0);
        List<Double> warm = new ArrayList<>();
        String boosted;
        Jit.WarmUp warmUp;
        try (CompilerPriority boost = CompilerPriority.boost()) {
            boosted = boost.toString();
            warmUp = Jit.warmUp(Math.min(1, warmMax), warmMax, 0.1, () -> warm.add(round(ctx, bootstrap, topic, records,
                    warmupRecords, "warm-" + warm.size(), " (warm-up " + (warm.size() + 1) + ", not counted)")));
        }
        ctx.log("  warm-up: %s", warmUp);
        List<Double> before = rounds(ctx, bootstrap, topic, records, warmupRecords, 1, rounds, "before");
        T measured = measurement.run();
        ctx.log("Kafka's producer ceiling on this broker, after the measurement (%d rounds)", rounds);
        List<Double> after = rounds(ctx, bootstrap, topic, records, warmupRecords, 1, rounds, "after");
        List<Double> all = new ArrayList<>(before);
        all.addAll(after);
        double ceiling = Median.of(all);
        ObjectNode d = result.details().putObject("producer_ceiling_here");
        d.put("what", "Kafka ProducerPerformance on this scenario's broker before and after the measurement: " + records
                + " × 1024 B a round, the rate of the last " + (records - warmupRecords) + " (the tool's steady state), acks=all, "
                + "llmq's producer settings, 6 partitions; warm-up rounds until this JVM's JIT compiled for at most 10 % of one, "
                + "then the median of " + rounds
                + " rounds before and "
                + rounds + " after");
        d.set("warmup_rounds_records_per_second", llmq.common.json.Json.mapper().valueToTree(warm));
        d.set("warmup_rounds_jit_compile_share", llmq.common.json.Json.mapper().valueToTree(warmUp.compileShares()));
        d.put("warmup_compiler_priority", boosted + " during the warm-up rounds, nice 0 for the counted ones");
        d.set("rounds_before_records_per_second", llmq.common.json.Json.mapper().valueToTree(before));
        d.set("rounds_after_records_per_second", llmq.common.json.Json.mapper().valueToTree(after));
        d.put("records_per_second", ceiling);
        producerRecordsPerSecond(ctx, result).ifPresent(b -> d.put("baseline_records_per_second", b));
        ctx.log("  ceiling around the measurement: %.0f records/s", ceiling);
        return new Around<>(measured, ceiling);
    }

    /** ProducerPerformance rounds {@code from..to} (round 0 is a warm-up, logged and not returned); records/s each. */
    private static List<Double> rounds(RunContext ctx, String bootstrap, String topic, int records, int warmupRecords, int from,
                                       int to, String tag) throws Exception {
        List<Double> counted = new ArrayList<>();
        for (int round = from; round <= to; round++) {
            double r = round(ctx, bootstrap, topic, records, warmupRecords, tag + "-" + round,
                    round == 0 ? " (warm-up, not counted)" : "");
            if (round > 0) {
                counted.add(r);
            }
        }
        return counted;
    }

    /** One ProducerPerformance round, logged with {@code note}; its records/s. */
    private static double round(RunContext ctx, String bootstrap, String topic, int records, int warmupRecords, String tag,
                                String note) throws Exception {
        double r = ProducerCeiling.once(ctx, bootstrap, topic, records, warmupRecords, 1024, tag).recordsPerSecond();
        ctx.log("  %.0f records/s%s", r, note);
        return r;
    }
}
