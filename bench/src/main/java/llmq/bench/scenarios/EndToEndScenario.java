package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import llmq.avro.EventType;
import llmq.bench.RunContext;
import llmq.bench.Scenario;
import llmq.bench.load.BenchClock;
import llmq.bench.load.HttpLoad;
import llmq.bench.report.Result;
import llmq.bench.rig.EventTimeline;
import llmq.bench.rig.Kafka;
import llmq.bench.stats.Latencies;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.kafka.KafkaConfig;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.standalone.Stack;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.HdrHistogram.Histogram;

/**
 * Scenario 3: the whole way — {@code POST /v1/requests} → router → worker → zero-latency model
 * simulator → result, and the billing row in PostgreSQL — on the standalone system, at increasing
 * open-loop rates. A step is sustained when every accepted request completed (COMPLETED on
 * {@code llm.events}) and has its {@code usage_records} row within the drain allowance, at ≥ 90 % of
 * the offered rate (completions spread over the step, not piling up behind it). Figure: the highest such
 * completed req/s.
 */
public final class EndToEndScenario implements Scenario {

    @Override
    public String name() {
        return "end-to-end";
    }

    @Override
    public String number() {
        return "3";
    }

    @Override
    public String title() {
        return "end-to-end: submit → billed row";
    }

    @Override
    public void run(RunContext ctx, Result result) throws Exception {
        int[] rates = CapacitySearch.ladder(ctx.param("rates", ctx.quick() ? "50,100" : "200,400,600,800,1200,1600,2400"));
        int seconds = ctx.param("step-seconds", 8, 3);
        // each step starts with a lead-in at its rate, not measured: a new, higher rate first makes the JVM adapt (the
        // young generation grows to the new allocation rate, the client opens more connections), and in the smoke runs
        // the first seconds at each new rate held the p99 spikes that failed the step's first attempt
        int leadIn = ctx.param("lead-in-seconds", 2, 0);
        int drainSeconds = ctx.param("drain-seconds", 10, 10);
        ObjectNode config = result.config();
        config.put("system", "standalone (Stack), zero-latency simulator, default settings");
        config.put("rates", Arrays.toString(rates));
        config.put("step_seconds", seconds);
        config.put("lead_in_seconds", leadIn);
        config.put("drain_seconds", drainSeconds);
        config.put("criterion", "all accepted requests COMPLETED and billed in usage_records within the drain allowance, "
                + "completions coming out at ≥ 90 % of the offered rate, no HTTP failures");

        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "modelsim.ttft", "0ms", "modelsim.per-token", "0ms", "worker.health.interval", "0"));
        String depth = ctx.param("queue-depth", "");
        if (!depth.isBlank()) {
            settings.put("router.queue.depth.normal", depth);
        }
        config.put("router_queue_depth_normal", depth.isBlank() ? "default" : depth);
        // any other llmq setting, for experiments: --param set=key=value;key=value
        for (String kv : ctx.param("set", "").split(";")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                settings.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                config.put("setting " + kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        Path data = ctx.scratch("stack");
        ctx.log("starting the standalone system in %s", data);
        try (Stack stack = Stack.start(data, Stack.Ports.ephemeral(), Settings.of(settings));
             HttpLoad load = new HttpLoad(stack.ingestUrl(), stack.apiKey(), 4096)) {
            TopicCatalog catalog = TopicCatalog.defaults();
            TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(stack.registryUrl()));
            Kafka kafka = new Kafka(new KafkaConfig(stack.kafka().bootstrapServers(), stack.registryUrl(), Map.of()));
            DbConfig db = stack.postgres().db();
            double ceiling = Ceiling.here(ctx, result, stack.kafka().bootstrapServers());
            try (EventTimeline timeline = new EventTimeline(kafka, catalog, serdes, id -> true, List.of())) {
                // a cold JVM on two cores is markedly slower for its first seconds (JIT, first requests of every path); the
                // ramp goes past capacity on a slow run, so the parking and release paths are compiled before the search too
                int[] warmRates = CapacitySearch.ladder(ctx.param("warmup-rates", ctx.quick() ? "50" : "200,400"));
                int warmSeconds = ctx.param("warmup-seconds", 10, 4);
                ctx.log("warm-up: %s/s for %d s each", Arrays.toString(warmRates), warmSeconds);
                result.config().put("warmup", Arrays.toString(warmRates) + "/s for " + warmSeconds + " s each, not measured");
                for (int warmRate : warmRates) {
                    HttpLoad.Step warm = load.step(warmRate, Duration.ofSeconds(warmSeconds), IngestScenario::body,
                            Duration.ofSeconds(10));
                    awaitDone(timeline, db, warm.ids(), Duration.ofSeconds(30));
                }

                ArrayNode steps = result.details().putArray("steps");
                ObjectNode[] best = new ObjectNode[1];
                double[] bestRate = {0};
                CapacitySearch.Outcome found = CapacitySearch.find(ctx, rates, ctx.param("resolution", 0.1, 0.5), 25,
                        (rate, attempt) -> {
                    if (leadIn > 0) {
                        load.step(rate, Duration.ofSeconds(leadIn), IngestScenario::body, Duration.ofSeconds(10));
                    }
                    long parkedBefore = timeline.count(EventType.PARKED);
                    HttpLoad.Step step = load.step(rate, Duration.ofSeconds(seconds), IngestScenario::body, Duration.ofSeconds(30));
                    long submittedEnd = BenchClock.nowMicros();
                    Done done = awaitDone(timeline, db, step.ids(), Duration.ofSeconds(drainSeconds));
                    Histogram e2e = Latencies.histogram();
                    Map<String, Histogram> stages = new java.util.LinkedHashMap<>();
                    for (String stage : List.of("intended_to_accepted", "accepted_to_released", "released_to_started",
                            "started_to_completed")) {
                        stages.put(stage, Latencies.histogram());
                    }
                    long firstCompleted = Long.MAX_VALUE;
                    long lastCompleted = 0;
                    for (Map.Entry<String, Long> e : step.ids().entrySet()) {
                        EventTimeline.Times t = timeline.get(e.getKey());
                        if (t == null || t.completed() == 0) {
                            continue;
                        }
                        e2e.recordValue(Latencies.clamp(t.completed() * 1000 - e.getValue()));
                        firstCompleted = Math.min(firstCompleted, t.completed());
                        lastCompleted = Math.max(lastCompleted, t.completed());
                        if (t.accepted() > 0 && t.released() > 0 && t.started() > 0) {
                            stages.get("intended_to_accepted").recordValue(Latencies.clamp(t.accepted() * 1000 - e.getValue()));
                            stages.get("accepted_to_released").recordValue(Latencies.clamp((t.released() - t.accepted()) * 1000));
                            stages.get("released_to_started").recordValue(Latencies.clamp((t.started() - t.released()) * 1000));
                            stages.get("started_to_completed").recordValue(Latencies.clamp((t.completed() - t.started()) * 1000));
                        }
                    }
                    // the rate completions came out at: a system that keeps up spreads them over the step's length
                    double span = Math.max((lastCompleted - firstCompleted) / 1000.0, seconds * (1 - 1.0 / Math.max(1, rate * seconds)));
                    double completedPerSecond = e2e.getTotalCount() == 0 ? 0 : e2e.getTotalCount() / Math.max(span, 1e-3);
                    boolean ok = step.failures() == 0 && done.completed() == step.accepted() && done.billed() == step.accepted()
                            && completedPerSecond >= 0.9 * rate;
                    ObjectNode s = step.json();
                    s.put("completed", done.completed());
                    s.put("parked_events", timeline.count(EventType.PARKED) - parkedBefore);
                    s.put("billed_rows", done.billed());
                    s.put("completed_per_second", Math.round(completedPerSecond));
                    s.put("all_billed_seconds_after_last_submit", done.allBilledMicros() < 0 ? null
                            : Math.round((done.allBilledMicros() - submittedEnd) / 1e5) / 10.0);
                    s.set("latency_intended_to_completed", Latencies.summary(e2e));
                    ObjectNode st = s.putObject("stages");
                    stages.forEach((k, h) -> st.set(k, Latencies.summary(h)));
                    s.put("sustained", ok);
                    s.put("attempt", attempt);
                    steps.add(s);
                    ctx.log("%5d/s offered: %5.0f completed/s, %d/%d completed, %d billed, e2e p50 %.1f ms p99 %.1f ms%s",
                            rate, completedPerSecond, done.completed(), step.accepted(), done.billed(), Latencies.ms(e2e, 50),
                            Latencies.ms(e2e, 99), ok ? "" : "  ← not sustained");
                    ctx.log("        p50 by stage: →accepted %.1f, →released %.1f, →started %.1f, →completed %.1f ms; %d parked by the router",
                            Latencies.ms(stages.get("intended_to_accepted"), 50), Latencies.ms(stages.get("accepted_to_released"), 50),
                            Latencies.ms(stages.get("released_to_started"), 50), Latencies.ms(stages.get("started_to_completed"), 50),
                            timeline.count(EventType.PARKED) - parkedBefore);
                    if (ok && rate > bestRate[0]) {
                        bestRate[0] = rate;
                        best[0] = s;
                    }
                    return ok;
                });
                double sustained = best[0] == null ? 0 : best[0].path("completed_per_second").asDouble();
                result.details().put("highest_rate_sustained", found.sustained());
                result.details().put("first_rate_not_sustained", found.failed());
                if (found.aboveLadder()) {
                    result.note("every offered rate was sustained: the limit is above the last step");
                }
                result.figure("max_sustained_completed_per_second", "max sustained completed req/s, every row in PostgreSQL",
                        sustained, "req/s");
                if (best[0] != null) {
                    result.figure("p99_ms_at_max", "p99 intended send → COMPLETED at that rate",
                            best[0].path("latency_intended_to_completed").path("p99_ms").asDouble(), "ms");
                }
                result.ratio("e2e_over_producer", "end-to-end completed/s ÷ Kafka producer records/s (same broker, same minutes)",
                        sustained / ceiling, "");
            }
        }
    }

    /** How many of {@code ids} completed and were billed, and when the last row appeared (epoch µs, -1 if never). */
    private record Done(long completed, long billed, long allBilledMicros) {
    }

    private static Done awaitDone(EventTimeline timeline, DbConfig db, Map<String, Long> ids, Duration timeout)
            throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String[] idArray = ids.keySet().toArray(new String[0]);
        long completed = 0;
        long billed = 0;
        try (Connection c = db.connect()) {
            while (true) {
                completed = ids.keySet().stream().filter(id -> {
                    EventTimeline.Times t = timeline.get(id);
                    return t != null && t.completed() > 0;
                }).count();
                if (completed == ids.size()) {
                    billed = billed(c, idArray);
                    if (billed == ids.size()) {
                        return new Done(completed, billed, BenchClock.nowMicros());
                    }
                }
                if (System.nanoTime() > deadline) {
                    return new Done(completed, billed(c, idArray), -1);
                }
                Thread.sleep(200);
            }
        }
    }

    private static long billed(Connection c, String[] ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM usage_records WHERE request_id = ANY (?)")) {
            Array array = c.createArrayOf("text", ids);
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
