package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.bench.RunContext;
import llmq.bench.Scenario;
import llmq.bench.load.OpenLoop;
import llmq.bench.report.Result;
import llmq.bench.rig.CompilerPriority;
import llmq.bench.rig.EventTimeline;
import llmq.bench.rig.Kafka;
import llmq.bench.rig.Requests;
import llmq.bench.rig.Router;
import llmq.bench.rig.Worker;
import llmq.bench.stats.Latencies;
import llmq.common.config.Settings;
import llmq.common.json.Json;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.WorkerService;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Scenario 6: aging under saturation. The model (simulator with a fixed latency behind a worker of
 * few slots) is the bottleneck; realtime and high requests together arrive at 95 % of its
 * capacity (measured first: 130 % of slots ÷ model latency offered for a few seconds, what was served taken) while low requests sit in a backlog and trickle in. With aging a parked request is
 * promoted one level after its level's max-wait, so a low request's wait is bounded by the chain
 * low → normal → high → realtime (shortened for the run, e.g. 10 + 5 + 2 s instead of 120 + 30 +
 * 5 s); without aging ({@code router.aging.enabled=false}) low gets only the worker's fair share of
 * what realtime and high leave. Figure: the worst low-priority wait (accepted → STARTED, or → the
 * end of the run for those never started) against the bound.
 */
public final class AgingScenario implements Scenario {

    @Override
    public String name() {
        return "aging";
    }

    @Override
    public String number() {
        return "6";
    }

    @Override
    public String title() {
        return "aging: low under saturation";
    }

    /** Settings of one run. */
    private record Load(int seconds, int maxInFlight, Duration ttft, double realtimeRate, double highRate, int lowBacklog,
                        double lowRate, Map<Priority, Duration> maxWait, int depth) {
        Duration bound() {
            return maxWait.get(Priority.LOW).plus(maxWait.get(Priority.NORMAL)).plus(maxWait.get(Priority.HIGH));
        }
    }

    @Override
    public void run(RunContext ctx, Result result) throws Exception {
        int maxInFlight = ctx.param("max-in-flight", 8, 8);
        Duration ttft = Duration.ofMillis(ctx.param("ttft-ms", 50, 50));
        double nominal = maxInFlight * 1000.0 / ttft.toMillis();
        double offered = ctx.param("offered-share", 0.95, 0.95);
        Map<Priority, Duration> maxWait = Map.of(Priority.LOW, Duration.ofSeconds(ctx.param("max-wait-low-s", 10, 4)),
                Priority.NORMAL, Duration.ofSeconds(ctx.param("max-wait-normal-s", 5, 2)),
                Priority.HIGH, Duration.ofSeconds(ctx.param("max-wait-high-s", 2, 1)));
        int depth = ctx.param("queue-depth", 2, 2);
        // 30 s (35 until run 20261207-094852): still almost twice the 17-s max-wait chain; the suite is meant to take 15 minutes
        int seconds = ctx.param("seconds", 30, 14);
        int lowBacklog = ctx.param("low-backlog", 400, 150);
        double lowRate = ctx.param("low-rate", 2.0, 2.0);

        Infra infra = Infra.get();
        Kafka kafka = new Kafka(infra.kafkaConfig());
        try (ModelSimulator sim = ModelSimulator.start(ModelSimConfig.from(Settings.of(Map.of(
                ModelSimConfig.PORT, "0", ModelSimConfig.TTFT, ttft.toMillis() + "ms",
                ModelSimConfig.COMPLETION_TOKENS_MIN, "8", ModelSimConfig.COMPLETION_TOKENS_MAX, "32",
                ModelSimConfig.THREADS, "4"))))) {
            // the first router and worker in a fresh JVM are markedly slower for their first seconds: warm up, discard
            int warm = ctx.param("warmup-seconds", 6, 4);
            if (warm > 0) {
                try (CompilerPriority boost = CompilerPriority.boost()) {
                    ctx.log("warm-up run (discarded), %s", boost);
                    once(ctx, infra, kafka, sim, new Load(warm, maxInFlight, ttft, nominal * 0.4, nominal * 0.5, 0, lowRate,
                            maxWait, depth), true);
                }
            }
            // "saturating" must be measured, not assumed: slots ÷ model latency overstates what this machine serves
            // (router, worker and simulator share its cores). Offer 130 % of the nominal capacity for a few seconds,
            // with the low backlog of the measured runs in play, and take what the model served as the capacity.
            // Without the backlog the calibration ran on two levels' queue places instead of three, and in one run it
            // read 89 calls/s where the measured runs then served 112: the load offered at 95 % of it did not saturate.
            // The calibration is repeated until two in a row agree within 10 %: on a slower machine the JIT was not done
            // after the 6-s warm-up, and single calibrations read 66 and 96 calls/s in two runs whose measured runs then
            // served 90 and 122; a load offered at 95 % of an underestimate does not saturate, and the worst low wait
            // ÷ chain read 0.51 and 0.87.
            int calibrate = ctx.param("calibrate-seconds", 8, 4);
            int maxCalibrations = ctx.param("max-calibrations", 5, 2);
            List<Double> calibrations = new ArrayList<>();
            double capacity = 0;
            for (int i = 0; i < maxCalibrations; i++) {
                ObjectNode cal = once(ctx, infra, kafka, sim, new Load(calibrate, maxInFlight, ttft, nominal * 0.65,
                        nominal * 0.65, lowBacklog, lowRate, maxWait, depth), true);
                double served = Result.number(cal.get("model_calls_per_second_after_first_quarter"));
                calibrations.add(Math.round(served * 10) / 10.0);
                double previous = capacity;
                capacity = Math.min(nominal, served);
                if (i > 0 && Math.abs(capacity - previous) <= 0.1 * previous) {
                    break;
                }
            }
            Load load = new Load(seconds, maxInFlight, ttft, capacity * offered * 0.45, capacity * offered * 0.55,
                    lowBacklog, lowRate, maxWait, depth);
            ObjectNode config = result.config();
            config.put("model", "simulator, ttft " + ttft.toMillis() + " ms, worker max-in-flight " + maxInFlight
                    + " → nominal capacity " + Math.round(nominal) + " calls/s");
            Result.putNumber(config, "measured_capacity_per_second", capacity);
            config.put("calibrations_calls_per_second", calibrations.toString());
            config.put("realtime_per_second", Math.round(load.realtimeRate()));
            config.put("high_per_second", Math.round(load.highRate()));
            config.put("offered_share_of_measured_capacity", offered);
            config.put("low_backlog", load.lowBacklog());
            config.put("low_per_second", load.lowRate());
            config.put("seconds", load.seconds());
            config.put("max_wait", "low " + load.maxWait().get(Priority.LOW).toSeconds() + " s, normal "
                    + load.maxWait().get(Priority.NORMAL).toSeconds() + " s, high " + load.maxWait().get(Priority.HIGH).toSeconds()
                    + " s (shortened from the defaults 120 s / 30 s / 5 s so the run stays short)");
            config.put("bound_seconds", load.bound().toMillis() / 1000.0);
            config.put("queue_depth_per_partition", load.depth());
            // the run right after the overload of the calibration is slower: settle at the measured load, discard
            if (warm > 0) {
                ctx.log("settling run at the measured load (discarded)");
                once(ctx, infra, kafka, sim, new Load(warm, maxInFlight, ttft, load.realtimeRate(), load.highRate(), 0,
                        lowRate, maxWait, depth), true);
            }
            ObjectNode on = once(ctx, infra, kafka, sim, load, true);
            ObjectNode off = once(ctx, infra, kafka, sim, load, false);
            result.details().set("aging_on", on);
            result.details().set("aging_off", off);
            double bound = load.bound().toMillis() / 1000.0;
            result.figure("worst_low_wait_s_aging", "worst low wait with aging (bound " + bound + " s)",
                    Result.number(on.get("worst_low_wait_s")), "s");
            result.figure("worst_low_wait_s_no_aging", "worst low wait without aging (run of " + load.seconds() + " s)",
                    Result.number(off.get("worst_low_wait_s")), "s");
            result.figure("realtime_p99_ms_aging", "realtime accepted → started p99 with aging",
                    Result.number(on.path("realtime_accepted_to_started").get("p99_ms")), "ms");
            result.ratio("worst_over_bound_aging", "worst low wait ÷ max-wait chain, aging on",
                    Result.number(on.get("worst_low_wait_s")) / bound, "");
            result.ratio("worst_over_bound_no_aging", "worst low wait ÷ max-wait chain, aging off",
                    Result.number(off.get("worst_low_wait_s")) / bound, "");
        }
        result.note("Wait of a low request = accepted (its submit time) → STARTED; requests never started count until the "
                + "end of the run, so without aging the worst wait is a lower bound.");
    }

    private ObjectNode once(RunContext ctx, Infra infra, Kafka kafka, ModelSimulator sim, Load load, boolean aging)
            throws Exception {
        String run = "age" + UUID.randomUUID().toString().substring(0, 6);
        TopicCatalog catalog = infra.catalog();
        String group = "bench-worker-" + run;
        Worker.reserve(kafka, catalog, group);
        Map<String, String> settings = new java.util.HashMap<>();
        settings.put("router.aging.enabled", Boolean.toString(aging));
        for (Priority p : Priority.values()) {
            settings.put("router.queue.depth." + TopicCatalog.level(p), Integer.toString(load.depth()));
        }
        load.maxWait().forEach((p, d) -> settings.put("router.max-wait." + TopicCatalog.level(p), d.toMillis() + "ms"));
        Map<String, Long> lowAccepted = new ConcurrentHashMap<>();
        Map<String, Long> accepted = new ConcurrentHashMap<>();
        ctx.log("aging %s: realtime %.0f/s + high %.0f/s for %d s, %d low backlogged + %.0f/s", aging ? "on" : "off",
                load.realtimeRate(), load.highRate(), load.seconds(), load.lowBacklog(), load.lowRate());
        sim.audit().reset();
        try (RouterService router = Router.start(infra, kafka, "bench-router-" + run, settings);
             EventTimeline timeline = new EventTimeline(kafka, catalog, infra.serdes(), id -> id.startsWith(run), List.of());
             WorkerService worker = Worker.start(infra, group, sim.baseUrl(), load.maxInFlight(), Map.of());
             KafkaProducer<String, byte[]> producer = kafka.producer()) {
            var ser = infra.serdes().value(LlmRequest.class);
            Sender send = (level, tenant, id) -> {
                Instant now = Instant.now();
                String topic = catalog.intake(level).name();
                LlmRequest r = Requests.request(id, tenant, level, "aging " + id, 16, now);
                (level == Priority.LOW ? lowAccepted : accepted).put(id, now.toEpochMilli());
                synchronized (producer) {
                    producer.send(new ProducerRecord<>(topic, id, ser.serialize(topic, r)));
                }
            };
            for (int i = 0; i < load.lowBacklog(); i++) {
                send.send(Priority.LOW, "batch", run + "-low-b" + i);
            }
            producer.flush();
            long endNanos = System.nanoTime() + Duration.ofSeconds(load.seconds()).toNanos();
            List<Thread> loops = new ArrayList<>();
            loops.add(loop(load.realtimeRate(), load.seconds(), i -> send.send(Priority.REALTIME, "interactive", run + "-rt-" + i)));
            loops.add(loop(load.highRate(), load.seconds(), i -> send.send(Priority.HIGH, "product", run + "-high-" + i)));
            if (load.lowRate() > 0) {
                loops.add(loop(load.lowRate(), load.seconds(), i -> send.send(Priority.LOW, "batch", run + "-low-t" + i)));
            }
            // the model's rate once the run is under way (the first quarter, while queues fill, left out)
            long quarterMs = Duration.ofSeconds(load.seconds()).toMillis() / 4;
            Thread.sleep(quarterMs);
            long servedAtQuarter = served(sim);
            long quarterNanos = System.nanoTime();
            for (Thread t : loops) {
                t.join(Duration.ofSeconds(load.seconds() + 30).toMillis());
            }
            long wait = (endNanos - System.nanoTime()) / 1_000_000;
            if (wait > 0) {
                Thread.sleep(wait);
            }
            long end = System.currentTimeMillis();
            double steadyRate = (served(sim) - servedAtQuarter) * 1e9 / Math.max(1, System.nanoTime() - quarterNanos);
            timeline.check();

            double worstStarted = 0;
            double worstWaiting = 0;
            long started = 0;
            long waiting = 0;
            long promoted = 0;
            long overBound = 0;
            long boundMs = load.bound().toMillis();
            Histogram low = Latencies.histogram();
            for (Map.Entry<String, Long> e : lowAccepted.entrySet()) {
                EventTimeline.Times t = timeline.get(e.getKey());
                if (t != null && t.promotions() > 0) {
                    promoted++;
                }
                if (t != null && t.started() > 0) {
                    long w = t.started() - e.getValue();
                    started++;
                    low.recordValue(Latencies.clamp(w * 1000));
                    worstStarted = Math.max(worstStarted, w / 1000.0);
                    if (w > boundMs) {
                        overBound++;
                    }
                } else {
                    long w = end - e.getValue();
                    waiting++;
                    worstWaiting = Math.max(worstWaiting, w / 1000.0);
                    if (w > boundMs) {
                        overBound++;
                    }
                }
            }
            Histogram rt = Latencies.histogram();
            Histogram high = Latencies.histogram();
            for (Map.Entry<String, Long> e : accepted.entrySet()) {
                EventTimeline.Times t = timeline.get(e.getKey());
                if (t != null && t.started() > 0) {
                    (e.getKey().contains("-rt-") ? rt : high).recordValue(Latencies.clamp((t.started() - e.getValue()) * 1000));
                }
            }
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("aging", aging);
            n.put("low_requests", lowAccepted.size());
            n.put("low_started", started);
            n.put("low_never_started", waiting);
            n.put("low_promoted", promoted);
            n.put("low_over_bound", overBound);
            Result.putNumber(n, "worst_low_wait_started_s", worstStarted);
            Result.putNumber(n, "worst_low_wait_still_waiting_s", worstWaiting);
            Result.putNumber(n, "worst_low_wait_s", Math.max(worstStarted, worstWaiting));
            n.set("low_accepted_to_started", Latencies.summary(low));
            n.set("realtime_accepted_to_started", Latencies.summary(rt));
            n.set("high_accepted_to_started", Latencies.summary(high));
            n.put("promotions_events", timeline.count(EventType.PROMOTED));
            Result.putNumber(n, "model_calls_per_second", served(sim) / (double) load.seconds());
            Result.putNumber(n, "model_calls_per_second_after_first_quarter", steadyRate);
            ctx.log("  low: %d started (worst %.1f s), %d never started (waiting up to %.1f s), %d promoted, %d over the %.0f s bound;"
                            + " realtime p99 %.0f ms, high p99 %.0f ms; model served %.0f calls/s", started, worstStarted, waiting,
                    worstWaiting, promoted, overBound, boundMs / 1000.0, Latencies.ms(rt, 99), Latencies.ms(high, 99),
                    served(sim) / (double) load.seconds());
            return n;
        }
    }

    private static long served(ModelSimulator sim) {
        return sim.audit().servedCount();
    }

    @FunctionalInterface
    private interface Sender {
        void send(Priority level, String tenant, String id) throws Exception;
    }

    @FunctionalInterface
    private interface Step {
        void send(long i) throws Exception;
    }

    private static Thread loop(double rate, int seconds, Step step) {
        Thread t = new Thread(() -> {
            try {
                OpenLoop.run(rate, Duration.ofSeconds(seconds), (i, intended) -> step.send(i));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "bench-aging-load");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
