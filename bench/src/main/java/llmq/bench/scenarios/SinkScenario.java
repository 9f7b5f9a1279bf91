package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import llmq.bench.RunContext;
import llmq.bench.Scenario;
import llmq.bench.report.Result;
import llmq.bench.rig.ChildJvm;
import llmq.common.json.Json;

/**
 * Scenario 7: billing's PostgreSQL sink (rows/s) beside a plain batched JDBC upsert into the same
 * table in the same run. The measuring code is billing-stream's {@code SinkBenchmark}; until it is
 * on this module's classpath the scenario reports "pending". When it is, it runs as a child JVM
 * (it ends its JVM with {@code System.exit}) and its JSON ({@code billing-sink.json} in the results directory)
 * is read back into this scenario's result.
 */
public final class SinkScenario implements Scenario {

    /** Where {@code SinkBenchmark} may live: moved into this module, or still in billing-stream's tests. */
    static final List<String> CANDIDATES = List.of("llmq.bench.scenarios.SinkBenchmark", "llmq.billing.bench.SinkBenchmark");

    @Override
    public String name() {
        return "sink";
    }

    @Override
    public String number() {
        return "7";
    }

    @Override
    public String title() {
        return "sink: billing rows into PostgreSQL";
    }

    @Override
    public void run(RunContext ctx, Result result) throws Exception {
        String benchmark = null;
        for (String c : CANDIDATES) {
            try {
                Class.forName(c, false, getClass().getClassLoader());
                benchmark = c;
                break;
            } catch (ClassNotFoundException e) {
                // not there (yet)
            }
        }
        if (benchmark == null) {
            result.status("pending");
            result.note("pending: billing-stream's SinkBenchmark is not on the harness's classpath yet "
                    + "(it lives in billing-stream's test sources); once moved into bench this scenario runs it");
            ctx.log("pending: SinkBenchmark not on the classpath");
            return;
        }
        // rounds of 30 000 rows took about a second each, and the ratio moved by up to a fifth between runs: longer rounds
        // and more of them
        int rows = ctx.param("rows", 60_000, 5_000);
        int rounds = ctx.param("rounds", 5, 1);
        result.config().put("benchmark", benchmark);
        result.config().put("rows_per_round", rows);
        result.config().put("rounds", rounds);
        // into this run's results directory: a quick run or one with --out must not overwrite the committed one
        Path out = ctx.results().dir().resolve("billing-sink.json");
        long before = Files.exists(out) ? Files.getLastModifiedTime(out).toMillis() : 0;
        List<String> jvm = new ArrayList<>(List.of("-Xmx1g", "-Dbench.rows=" + rows, "-Dbench.rounds=" + rounds,
                "-Dbench.out=" + ctx.results().dir(),
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2"));
        ctx.log("running %s (%d rows × %d rounds)", benchmark, rows, rounds);
        try (ChildJvm child = ChildJvm.start(ChildJvm.ownClasspath(), jvm, benchmark, List.of(),
                ctx.root(), ctx.logs().resolve("sink-benchmark.log"))) {
            int rc = child.await(Duration.ofSeconds(ctx.quick() ? 180 : 420));
            if (rc != 0 || !Files.exists(out) || Files.getLastModifiedTime(out).toMillis() <= before) {
                throw new IllegalStateException(benchmark + " failed (exit " + rc + "); see " + child.log());
            }
        }
        JsonNode sink = Json.mapper().readTree(out.toFile());
        JsonNode median = sink.path("rows_per_second_median");
        result.details().set("billing_sink", sink);
        result.figure("sink_rows_per_second", "billing sink rows/s (Kafka → PostgreSQL)",
                Result.number(median.get("sink")), "rows/s");
        result.figure("plain_rows_per_second", "plain batched JDBC upsert rows/s", Result.number(median.get("plain_batched_jdbc_upsert")),
                "rows/s");
        result.ratio("sink_over_plain", "billing sink ÷ plain batched JDBC upsert (paired rounds, median)",
                Result.number(sink.get("sink_vs_plain")), "");
    }
}
