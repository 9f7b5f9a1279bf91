package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import llmq.bench.RunContext;
import llmq.bench.Scenario;
import llmq.bench.load.HttpLoad;
import llmq.bench.report.Result;
import llmq.bench.rig.ChildJvm;
import llmq.bench.stats.Latencies;
import llmq.embedded.kafka.EmbeddedKafka;

/**
 * Scenario 8: {@code llmq up} as a user starts it — a separate JVM ({@code java -cp <standalone's
 * classpath> llmq.standalone.LlmqMain up}, the launcher's JVM options) on a fresh data directory and
 * free ports — timed from process start to the first 202 of {@code POST /v1/requests}; then its
 * resident memory ({@code VmRSS}) at rest and under HTTP load, and the time SIGTERM takes to stop it.
 */
public final class StartupScenario implements Scenario {

    /** The JVM options of the {@code ./llmq} launcher. */
    static final List<String> LAUNCHER_JVM = List.of("-Xms256m", "-Xmx1g", "-XX:+UseSerialGC");

    private static final Pattern UP_IN = Pattern.compile("llmq up in (\\d+) ms");

    @Override
    public String name() {
        return "startup";
    }

    @Override
    public String number() {
        return "8";
    }

    @Override
    public String title() {
        return "start-up and memory of llmq up";
    }

    @Override
    public void run(RunContext ctx, Result result) throws Exception {
        int restSeconds = ctx.param("rest-seconds", 5, 5);
        int loadRate = ctx.param("load-rate", 300, 100);
        int loadSeconds = ctx.param("load-seconds", 10, 5);
        String classpath = System.getProperty("bench.standalone.classpath");
        if (classpath == null || classpath.isBlank()) {
            classpath = ChildJvm.ownClasspath();
            result.note("standalone's own classpath was not given (bench.standalone.classpath); the harness's was used");
        }
        Path data = ctx.scratch("llmq-data");
        int ingestPort = EmbeddedKafka.freePort();
        List<String> args = new ArrayList<>(List.of("up", "--data-dir", data.toString(),
                "--port", Integer.toString(ingestPort),
                "--kafka-port", Integer.toString(EmbeddedKafka.freePort()),
                "--kafka-controller-port", Integer.toString(EmbeddedKafka.freePort()),
                "--postgres-port", Integer.toString(EmbeddedKafka.freePort()),
                "--registry-port", Integer.toString(EmbeddedKafka.freePort()),
                "--model-port", Integer.toString(EmbeddedKafka.freePort())));
        for (String admin : List.of("router.admin.port", "worker.admin.port", "billing.admin.port")) {
            args.add("--set");
            args.add(admin + "=" + EmbeddedKafka.freePort());
        }
        ObjectNode config = result.config();
        config.put("command", "java " + String.join(" ", LAUNCHER_JVM) + " -cp <standalone classpath> llmq.standalone.LlmqMain "
                + String.join(" ", args).replace(data.toString(), "<fresh dir>"));
        config.put("rest_seconds", restSeconds);
        config.put("load", loadRate + " req/s for " + loadSeconds + " s, POST /v1/requests");

        ctx.log("cold start of llmq up (fresh data dir, separate JVM)");
        String url = "http://127.0.0.1:" + ingestPort;
        try (ChildJvm llmq = ChildJvm.start(classpath, LAUNCHER_JVM, "llmq.standalone.LlmqMain", args, ctx.scratch("cwd"),
                ctx.logs().resolve("startup-llmq-up.log"))) {
            Path keyFile = data.resolve("dev-api-key");
            long deadline = llmq.startNanos() + Duration.ofSeconds(ctx.quick() ? 150 : 240).toNanos();
            String key = null;
            int status = -1;
            HttpLoad probe = null;
            try {
                while (System.nanoTime() < deadline && llmq.alive()) {
                    if (key == null && Files.exists(keyFile)) {
                        String k = Files.readString(keyFile).trim();
                        if (!k.isEmpty()) {
                            key = k;
                            probe = new HttpLoad(url, key, 16);
                        }
                    }
                    if (probe != null) {
                        status = probe.once(IngestScenario.body(0), Duration.ofSeconds(5));
                        if (status == 202) {
                            break;
                        }
                    }
                    Thread.sleep(50);
                }
                long firstAccepted = System.nanoTime();
                if (status != 202) {
                    throw new IllegalStateException("llmq up gave no 202 (last status " + status + ", alive " + llmq.alive()
                            + "); see " + llmq.log());
                }
                double coldSeconds = (firstAccepted - llmq.startNanos()) / 1e9;
                Matcher m = UP_IN.matcher(llmq.output());
                double bootSeconds = m.find() ? Long.parseLong(m.group(1)) / 1000.0 : Double.NaN;
                ctx.log("  first 202 after %.1f s (the stack reported itself up after %.1f s of its own boot)", coldSeconds,
                        bootSeconds);

                Thread.sleep(restSeconds * 1000L);
                long rest = llmq.rssKib();
                ctx.log("  RSS at rest (%d s after the first 202): %d MiB", restSeconds, rest / 1024);

                AtomicBoolean sampling = new AtomicBoolean(true);
                AtomicLong maxRss = new AtomicLong(rest);
                Thread sampler = new Thread(() -> {
                    while (sampling.get()) {
                        long r = llmq.rssKib();
                        maxRss.accumulateAndGet(r, Math::max);
                        try {
                            Thread.sleep(250);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "bench-rss-sampler");
                sampler.setDaemon(true);
                sampler.start();
                HttpLoad.Step step;
                try (HttpLoad load = new HttpLoad(url, key, 2048)) {
                    step = load.step(loadRate, Duration.ofSeconds(loadSeconds), IngestScenario::body, Duration.ofSeconds(30));
                }
                sampling.set(false);
                sampler.join();
                long underLoad = maxRss.get();
                long peak = llmq.peakRssKib();
                ctx.log("  RSS under load (%d req/s): max %d MiB, peak since start %d MiB; p99 %.1f ms, %d failures",
                        loadRate, underLoad / 1024, peak / 1024, Latencies.ms(step.latency(), 99), step.failures());

                long t0 = System.nanoTime();
                llmq.stop(Duration.ofSeconds(45));
                double stopSeconds = (System.nanoTime() - t0) / 1e9;
                ctx.log("  stopped by SIGTERM in %.1f s", stopSeconds);

                ObjectNode d = result.details();
                Result.putNumber(d, "cold_start_to_first_202_s", coldSeconds);
                Result.putNumber(d, "stack_reported_up_s", bootSeconds);
                d.put("rss_at_rest_mib", rest / 1024);
                d.put("rss_under_load_max_mib", underLoad / 1024);
                d.put("rss_peak_mib", peak / 1024);
                d.set("load", step.json());
                Result.putNumber(d, "sigterm_to_exit_s", stopSeconds);
                result.figure("cold_start_s", "cold start to first 202 (fresh data dir)", coldSeconds, "s");
                result.figure("rss_rest_mib", "RSS at rest", rest / 1024.0, "MiB");
                result.figure("rss_load_mib", "RSS under " + loadRate + " req/s", underLoad / 1024.0, "MiB");
                result.figure("stop_s", "SIGTERM to exit", stopSeconds, "s");
                result.ratio("rss_load_over_rest", "RSS under load ÷ at rest", (double) underLoad / Math.max(1, rest), "");
            } finally {
                if (probe != null) {
                    probe.close();
                }
            }
        }
    }
}
