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

    /** One round of a limit: its rate (per second, in {@link Limit#unit}); {@code tag} names the round in logs. */
    @FunctionalInterface
    interface LimitRound {
        double run(String tag) throws Exception;
    }

    /**
     * A limit measured in rounds around a measurement: {@code what} it is (for the JSON), the {@code unit} of its rate,
     * the JSON key of its details, and one round.
     */
    record Limit(String what, String unit, String detailsKey, LimitRound round) {
    }

    /**
     * Kafka's ProducerPerformance on {@code bootstrap} around {@code measurement} (200 000 records a round, the rate of
     * the last 100 000 taken; 30 000 in quick mode), as {@link #around(RunContext, Result, Limit, Measurement)} takes a
     * limit, recorded in {@code result}'s details as {@code producer_ceiling_here}.
     */
    static <T> Around<T> around(RunContext ctx, Result result, String bootstrap, Measurement<T> measurement) throws Exception {
        // 200 000 records, the rate of the last 100 000 (300 000 and 200 000 until run 20261205-010740): about 1.2 s a round
        // at this machine's rates, so a ceiling of six rounds costs half a minute less of the suite's 15
        int records = ctx.param("ceiling-records", 200_000, 30_000);
        int warmupRecords = ctx.param("ceiling-warmup-records", 100_000, 10_000);
        String topic = ProducerCeiling.topic(bootstrap, "around");
        Limit producer = new Limit("Kafka ProducerPerformance on this scenario's broker: " + records + " × 1024 B a round, the rate "
                + "of the last " + (records - warmupRecords) + " (the tool's steady state), acks=all, llmq's producer settings, "
                + "6 partitions", "records/s", "producer_ceiling_here",
                tag -> ProducerCeiling.once(ctx, bootstrap, topic, records, warmupRecords, 1024, tag).recordsPerSecond());
        Around<T> around = around(ctx, result, producer, measurement);
        producerRecordsPerSecond(ctx, result).ifPresent(b -> ((ObjectNode) result.details().get("producer_ceiling_here"))
                .put("baseline_records_per_second", b));
        return around;
    }

    /**
     * {@code limit} before and after {@code measurement}: warm-up rounds until the JIT is quiet, three rounds before, three
     * after (one each side in quick mode); the ceiling is the median of the six, so it spans the minutes the measurement
     * took. For a measurement of a minute or more, a ceiling taken only before it missed the machine's drift during it.
     */
    static <T> Around<T> around(RunContext ctx, Result result, Limit limit, Measurement<T> measurement) throws Exception {
        // three each side: with two, one round of 36 000 records/s among 49 000-63 000 moved a ceiling by a sixth
        int rounds = ctx.param("ceiling-rounds", 3, 1);
        ctx.log("%s, before the measurement (warm-up rounds until the JIT is quiet, then %d)", limit.what(), rounds);
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
            warmUp = Jit.warmUp(Math.min(1, warmMax), warmMax, 0.1, () -> warm.add(round(ctx, limit, "warm-" + warm.size(),
                    " (warm-up " + (warm.size() + 1) + ", not counted)")));
        }
        ctx.log("  warm-up: %s", warmUp);
        List<Double> before = rounds(ctx, limit, rounds, "before");
        T measured = measurement.run();
        ctx.log("%s, after the measurement (%d rounds)", limit.what(), rounds);
        List<Double> after = rounds(ctx, limit, rounds, "after");
        List<Double> all = new ArrayList<>(before);
        all.addAll(after);
        double ceiling = Median.of(all);
        ObjectNode d = result.details().putObject(limit.detailsKey());
        d.put("what", limit.what() + ", before and after the measurement; warm-up rounds until this JVM's JIT compiled for at "
                + "most 10 % of one, then the median of " + rounds + " rounds before and " + rounds + " after");
        d.put("unit", limit.unit());
        d.set("warmup_rounds", llmq.common.json.Json.mapper().valueToTree(warm));
        d.set("warmup_rounds_jit_compile_share", llmq.common.json.Json.mapper().valueToTree(warmUp.compileShares()));
        d.put("warmup_compiler_priority", boosted + " during the warm-up rounds, nice 0 for the counted ones");
        d.set("rounds_before", llmq.common.json.Json.mapper().valueToTree(before));
        d.set("rounds_after", llmq.common.json.Json.mapper().valueToTree(after));
        d.put("median", ceiling);
        ctx.log("  ceiling around the measurement: %.0f %s", ceiling, limit.unit());
        return new Around<>(measured, ceiling);
    }

    /** {@code count} counted rounds of {@code limit}; their rates. */
    private static List<Double> rounds(RunContext ctx, Limit limit, int count, String tag) throws Exception {
        List<Double> counted = new ArrayList<>();
        for (int round = 1; round <= count; round++) {
            counted.add(round(ctx, limit, tag + "-" + round, ""));
        }
        return counted;
    }

    /** One round of {@code limit}, logged with {@code note}; its rate. */
    private static double round(RunContext ctx, Limit limit, String tag, String note) throws Exception {
        double r = limit.round().run(tag);
        ctx.log("  %.0f %s%s", r, limit.unit(), note);
        return r;
    }
}
