package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.bench.RunContext;
import llmq.bench.Scenario;
import llmq.bench.load.OpenLoop;
import llmq.bench.report.Result;
import llmq.bench.rig.EventTimeline;
import llmq.bench.rig.Kafka;
import llmq.bench.rig.Requests;
import llmq.bench.rig.Router;
import llmq.bench.rig.StandInWorker;
import llmq.bench.stats.Latencies;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Scenario F: a flood. A batch of low requests arrives faster than the router can take it in, while
 * realtime requests keep arriving at a steady rate. Does realtime stay fast while the router is
 * behind its intake, and do releases go on (the stand-in worker starts low at a fixed rate, as a
 * model with limited capacity would)? Both go straight onto the intake topics, open loop.
 *
 * <p>Figures: realtime accepted → released during the flood and its drain (p50, p99), beside the
 * same without the flood; low requests released per second while the router was still taking the
 * flood in, beside the rate the stand-in starts them at; seconds from the flood's end until the
 * router had taken it all in.
 */
public final class FloodScenario implements Scenario {

    @Override
    public String name() {
        return "flood";
    }

    @Override
    public String number() {
        return "F";
    }

    @Override
    public String title() {
        return "flood: realtime beside a low flood the router is behind";
    }

    /** Per-run counters the timeline listener fills. */
    private static final class Counts {
        final Map<String, Long> intended = new ConcurrentHashMap<>();
        final Histogram realtimeReleased = Latencies.histogram();
        final AtomicLong realtimeReleasedCount = new AtomicLong();
        final AtomicLong lowReleased = new AtomicLong();
        final AtomicLong lowStarted = new AtomicLong();
    }

    @Override
    public void run(RunContext ctx, Result result) throws Exception {
        int realtimeRate = ctx.param("realtime-rate", 200, 100);
        // 4 000/s for 10 s no longer put the router behind on the machine of 2026-12-07 (taken in 0.1-0.2 s)
        int floodRate = ctx.param("flood-rate", 12000, 2000);
        int floodSeconds = ctx.param("flood-seconds", 5, 4);
        int lowStartRate = ctx.param("low-start-rate", 1000, 500);
        int warmupSeconds = ctx.param("warmup-seconds", 20, 5);
        int tailSeconds = ctx.param("tail-seconds", 20, 8);
        Priority floodLevel = Priority.valueOf(ctx.param("flood-level", "low").toUpperCase(java.util.Locale.ROOT));
        ObjectNode config = result.config();
        config.put("realtime_rate_per_second", realtimeRate);
        config.put("flood_rate_per_second", floodRate);
        config.put("flood_seconds", floodSeconds);
        config.put("flood_level", floodLevel.name().toLowerCase(java.util.Locale.ROOT));
        config.put("low_started_per_second", lowStartRate);
        config.put("warmup_seconds", warmupSeconds);
        config.put("realtime_seconds", floodSeconds + tailSeconds);
        Map<String, String> settings = new HashMap<>(Map.of("router.aging.enabled", "false"));
        settings.putAll(ctx.settings());
        config.put("router", "real RouterService, default settings but " + settings);
        config.put("worker", "stand-in: starts realtime at once and low at " + lowStartRate + "/s (STARTED events), no model");

        Infra infra = Infra.get();
        Kafka kafka = new Kafka(infra.kafkaConfig());
        TopicCatalog catalog = infra.catalog();
        TopicSerdes serdes = infra.serdes();
        String run = "fl" + UUID.randomUUID().toString().substring(0, 6);
        Counts c = new Counts();
        EventTimeline.Listener listener = (e, t) -> {
            String id = e.getRequestId();
            boolean realtime = id.startsWith(run + "-rt-");
            if (e.getType() == EventType.RELEASED) {
                if (realtime) {
                    Long sent = c.intended.get(id);
                    if (sent != null) {
                        synchronized (c.realtimeReleased) {
                            c.realtimeReleased.recordValue(Latencies.clamp((e.getAt().toEpochMilli() - sent) * 1000));
                        }
                        c.realtimeReleasedCount.incrementAndGet();
                    }
                } else if (id.startsWith(run + "-low-")) {
                    c.lowReleased.incrementAndGet();
                }
            } else if (e.getType() == EventType.STARTED && id.startsWith(run + "-low-")) {
                c.lowStarted.incrementAndGet();
            }
        };
        try (RouterService router = Router.start(infra, kafka, "bench-router-" + run, settings);
             EventTimeline timeline = new EventTimeline(kafka, catalog, serdes, id -> id.startsWith(run), List.of(listener));
             KafkaProducer<String, byte[]> producer = kafka.producer();
             KafkaProducer<String, byte[]> bulk = kafka.ingestProducer();
             StandInWorker worker = new StandInWorker(kafka, catalog, serdes, List.of(Priority.REALTIME, Priority.LOW),
                     Map.of(Priority.LOW, (double) lowStartRate), id -> id.startsWith(run))) {
            var ser = serdes.value(LlmRequest.class);
            String rtTopic = catalog.intake(Priority.REALTIME).name();
            String lowTopic = catalog.intake(Priority.LOW).name();
            String floodTopic = catalog.intake(floodLevel).name();
            AtomicLong rtSeq = new AtomicLong();
            AtomicLong lowSeq = new AtomicLong();
            OpenLoop.Sender realtime = (i, intendedMicros) -> {
                String id = run + "-rt-" + rtSeq.getAndIncrement();
                long ms = intendedMicros / 1000;
                c.intended.put(id, ms);
                LlmRequest r = Requests.request(id, "tenant-" + (i % 10), Priority.REALTIME, "realtime request " + i, 64,
                        Instant.ofEpochMilli(ms));
                producer.send(new ProducerRecord<>(rtTopic, id, ser.serialize(rtTopic, r)));
            };
            OpenLoop.Sender low = (i, intendedMicros) -> {
                String id = run + "-low-" + lowSeq.getAndIncrement();
                LlmRequest r = Requests.request(id, "batch-" + (i % 3), Priority.LOW, "batch request " + i, 64,
                        Instant.ofEpochMilli(intendedMicros / 1000));
                bulk.send(new ProducerRecord<>(lowTopic, id, ser.serialize(lowTopic, r)));
            };

            // warm-up: both levels at a rate the router keeps up with, so the measured part finds a warm JIT
            ctx.log("warm-up: realtime and low at %d/s each for %d s", realtimeRate, warmupSeconds);
            Thread warmLow = background(() -> OpenLoop.run(realtimeRate, Duration.ofSeconds(warmupSeconds), low));
            OpenLoop.run(realtimeRate, Duration.ofSeconds(warmupSeconds), realtime);
            warmLow.join();
            awaitQuiet(router, worker, Duration.ofSeconds(60));

            Histogram quiet = measureRealtime(ctx, c, realtime, realtimeRate, Duration.ofSeconds(10), "without the flood");

            // the flood
            c.lowReleased.set(0);
            c.lowStarted.set(0);
            long lowBefore = lowSeq.get();
            ArrayNode perSecond = result.details().putArray("per_second");
            AtomicBoolean sampling = new AtomicBoolean(true);
            long t0 = System.nanoTime();
            AtomicLong floodTakenInAt = new AtomicLong(-1);
            long floodCount = (long) floodRate * floodSeconds;
            Thread sampler = background(() -> {
                long lastRt = c.realtimeReleasedCount.get();
                long lastLow = 0;
                long lastStarted = 0;
                while (sampling.get()) {
                    Thread.sleep(1000);
                    long rt = c.realtimeReleasedCount.get();
                    long lr = c.lowReleased.get();
                    long ls = c.lowStarted.get();
                    long parked = router.metrics().parked(floodLevel);
                    long takenIn = floodLevel == Priority.LOW ? parked + ls + router.metrics().queued(Priority.LOW)
                            : lr;
                    double t = (System.nanoTime() - t0) / 1e9;
                    if (floodTakenInAt.get() < 0 && takenIn >= floodCount) {
                        floodTakenInAt.set(System.nanoTime());
                    }
                    ObjectNode p = perSecond.addObject();
                    p.put("t", Math.round(t * 10) / 10.0);
                    p.put("realtime_released", rt - lastRt);
                    p.put("low_released", lr - lastLow);
                    p.put("low_started", ls - lastStarted);
                    p.put("low_parked", parked);
                    p.put("router_polls_total", threadMetric(router, "poll-total"));
                    ctx.log("  t=%5.1f s  realtime released %4d  low released %5d, started %5d, parked %6d | lag rt %s low %s ev %s",
                            t, rt - lastRt, lr - lastLow, ls - lastStarted, parked,
                            lag(router, catalog.intake(Priority.REALTIME).name()), lag(router, lowTopic),
                            lag(router, catalog.events().name()) + " polls " + threadMetric(router, "poll-total")
                                    + " commits " + threadMetric(router, "commit-total"));
                    lastRt = rt;
                    lastLow = lr;
                    lastStarted = ls;
                }
                return 0L;
            });
            ctx.log("flood: %d %s requests at %d/s, realtime at %d/s throughout", floodCount, floodLevel, floodRate,
                    realtimeRate);
            OpenLoop.Sender flooder = (i, intendedMicros) -> {
                String id = run + "-low-" + lowSeq.getAndIncrement();
                LlmRequest r = Requests.request(id, "batch-" + (i % 3), floodLevel, "batch request " + i, 64,
                        Instant.ofEpochMilli(intendedMicros / 1000));
                bulk.send(new ProducerRecord<>(floodTopic, id, ser.serialize(floodTopic, r)));
            };
            Thread flood = background(() -> OpenLoop.run(floodRate, Duration.ofSeconds(floodSeconds), flooder));
            Histogram during = measureRealtime(ctx, c, realtime, realtimeRate, Duration.ofSeconds(floodSeconds + tailSeconds),
                    "during the flood and after it");
            flood.join();
            long lowReleasedDuring = c.lowReleased.get();
            double measured = (System.nanoTime() - t0) / 1e9;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (floodTakenInAt.get() < 0 && System.nanoTime() < deadline) {
                worker.check();
                Thread.sleep(200);
            }
            sampling.set(false);
            sampler.join();
            double takenIn = floodTakenInAt.get() < 0 ? -1 : (floodTakenInAt.get() - t0) / 1e9 - floodSeconds;
            ctx.log("router had taken the whole flood in %.1f s after it ended; %d of %d low released in the %.0f s measured",
                    takenIn, lowReleasedDuring, lowSeq.get() - lowBefore, measured);

            result.details().set("realtime_without_flood", Latencies.summary(quiet));
            result.details().set("realtime_during_flood", Latencies.summary(during));
            result.figure("realtime_released_p99_flood_ms", "realtime accepted → released p99 during a low flood of "
                    + floodCount + " at " + floodRate + "/s", Latencies.ms(during, 99), "ms");
            result.figure("realtime_released_p50_flood_ms", "realtime accepted → released p50 during the flood",
                    Latencies.ms(during, 50), "ms");
            result.figure("realtime_released_p99_quiet_ms", "realtime accepted → released p99 without the flood",
                    Latencies.ms(quiet, 99), "ms");
            result.figure("low_released_per_second", "low released/s while the router was behind (stand-in starts "
                    + lowStartRate + "/s)", lowReleasedDuring / measured, "req/s");
            result.figure("flood_taken_in_seconds", "seconds after the flood until the router had taken it all in", takenIn,
                    "s");
            result.ratio("realtime_p99_flood_over_quiet", "realtime released p99: during ÷ without the flood",
                    Latencies.ms(during, 99) / Latencies.ms(quiet, 99), "≈ 1");
            result.ratio("low_release_rate_over_capacity", "low released/s while behind ÷ the stand-in's start rate",
                    lowReleasedDuring / measured / lowStartRate, "≈ 1");
        }
    }

    private static long threadMetric(RouterService router, String name) {
        double sum = 0;
        for (var e : router.app().streams().metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("stream-thread-metrics")
                    && e.getValue().metricValue() instanceof Number v) {
                sum += v.doubleValue();
            }
        }
        return Math.round(sum);
    }

    private static long lag(RouterService router, String topic) {
        double sum = 0;
        for (var e : router.app().streams().metrics().entrySet()) {
            var n = e.getKey();
            if (n.name().equals("records-lag") && topic.equals(n.tags().get("topic"))
                    && e.getValue().metricValue() instanceof Number v && !Double.isNaN(v.doubleValue())) {
                sum += v.doubleValue();
            }
        }
        return Math.round(sum);
    }

    private static Histogram measureRealtime(RunContext ctx, Counts c, OpenLoop.Sender realtime, int rate, Duration d,
                                             String what) throws Exception {
        synchronized (c.realtimeReleased) {
            c.realtimeReleased.reset();
        }
        long before = c.realtimeReleasedCount.get();
        long sent = OpenLoop.run(rate, d, realtime);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (c.realtimeReleasedCount.get() - before < sent && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Histogram h;
        synchronized (c.realtimeReleased) {
            h = c.realtimeReleased.copy();
        }
        ctx.log("realtime %s: %d sent, %d released; accepted → released p50 %.1f ms, p99 %.1f ms, max %.0f ms", what, sent,
                h.getTotalCount(), Latencies.ms(h, 50), Latencies.ms(h, 99), h.getMaxValue() / 1000.0);
        return h;
    }

    private static void awaitQuiet(RouterService router, StandInWorker worker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((router.metrics().parked(Priority.LOW) > 0 || router.metrics().parked(Priority.REALTIME) > 0)
                && System.nanoTime() < deadline) {
            worker.check();
            Thread.sleep(200);
        }
        Thread.sleep(2000);
    }

    @FunctionalInterface
    private interface Body {
        long run() throws Exception;
    }

    private static Thread background(Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "bench-flood");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
