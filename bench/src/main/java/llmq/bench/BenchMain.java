package llmq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import llmq.bench.report.Renderer;
import llmq.bench.report.Result;
import llmq.common.lifecycle.JvmDefaults;

/**
 * The harness's command line (called by {@code bench/run}):
 *
 * <pre>
 * BenchMain list                                   scenario names, in run order
 * BenchMain suite NAME... [--quick] [--run-id ID] [--out DIR] [--limits name=seconds,...] [--progress FILE]
 *                 [--param key=value]...           runs the scenarios one after the other in this JVM, each writing
 *                                                  DIR/NAME.json (the former one kept as NAME.previous.json), its
 *                                                  console to bench/target/bench-logs/NAME.out and its logging to NAME.log;
 *                                                  appends "NAME started" and then "NAME ok|failed" to FILE; exits 0, or 1 if any
 *                                                  failed, or 3 when one timed out (the rest did not run)
 * BenchMain scenario NAME [options as suite]       the same for one scenario
 * BenchMain render [--out DIR] [--doc FILE]        prints the results table and rewrites its part of FILE
 * </pre>
 * DIR defaults to docs/benchmarks and FILE to docs/benchmarks.md, under the repository root
 * ({@code -Dbench.root}, else found upwards from the working directory).
 *
 * <p>One JVM for the whole suite: most scenarios run llmq in this JVM, and each one in a fresh JVM
 * paid its own JIT warm-up for the same classes (the broker, Kafka Streams, the router and the
 * worker) — about a third of the suite's time on two cores. Each scenario still warms up until the
 * JIT is quiet, so one run on its own ({@code bench/run worker}) measures the same steady state,
 * only after a longer warm-up.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        JvmDefaults.apply();
        System.setProperty("java.awt.headless", "true");
        if (args.length == 0) {
            usage();
            System.exit(2);
        }
        Map<String, String> options = new LinkedHashMap<>();
        Map<String, String> params = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        boolean quick = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if ("--quick".equals(a)) {
                quick = true;
            } else if ("--param".equals(a) && i + 1 < args.length) {
                String[] kv = args[++i].split("=", 2);
                params.put(kv[0], kv.length > 1 ? kv[1] : "");
            } else if (a.startsWith("--") && i + 1 < args.length) {
                options.put(a.substring(2), args[++i]);
            } else {
                positional.add(a);
            }
        }
        Path root = root();
        Path out = options.containsKey("out") ? Path.of(options.get("out")).toAbsolutePath()
                : root.resolve("docs").resolve("benchmarks");
        switch (args[0]) {
            case "list" -> Scenarios.all().forEach(s -> System.out.println(s.name()));
            case "render" -> {
                Path doc = options.containsKey("doc") ? Path.of(options.get("doc")) : root.resolve("docs").resolve("benchmarks.md");
                Renderer renderer = new Renderer(new llmq.bench.report.ResultFiles(out), Scenarios.order());
                System.out.println(renderer.markdown());
                renderer.updateDoc(doc);
                System.out.println("(table written into " + root.relativize(doc.toAbsolutePath()) + ")");
            }
            case "scenario", "suite" -> {
                if (positional.isEmpty() || "scenario".equals(args[0]) && positional.size() > 1) {
                    usage();
                    System.exit(2);
                }
                String runId = options.getOrDefault("run-id",
                        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                Map<String, Integer> limits = limits(options.getOrDefault("limits", ""));
                Path progress = options.containsKey("progress") ? Path.of(options.get("progress")) : null;
                System.exit(runSuite(positional, quick, runId, root, out, params, limits, progress));
            }
            default -> {
                usage();
                System.exit(2);
            }
        }
    }

    /**
     * Runs {@code names} one after the other in this JVM; 0 if every one ended ok, 1 if one failed, 2 for an unknown
     * name. A scenario that times out ends the JVM (exit 3) with what it started still running; {@code progress}
     * then tells the caller which scenarios are left.
     */
    static int runSuite(List<String> names, boolean quick, String runId, Path root, Path out, Map<String, String> params,
                        Map<String, Integer> limits, Path progress) throws Exception {
        for (String name : names) {
            if (Scenarios.byName(name).isEmpty()) {
                System.err.println("no scenario " + name + "; known: " + Scenarios.all().stream().map(Scenario::name).toList());
                return 2;
            }
        }
        Path logs = root.resolve("bench").resolve("target").resolve("bench-logs");
        Files.createDirectories(logs);
        int status = 0;
        for (String name : names) {
            logTo(logs.resolve(name + ".log"));
            record(progress, name, "started");
            List<String> threadsBefore = threadNames();
            int s;
            try (Console console = Console.teeTo(logs.resolve(name + ".out"))) {
                s = runScenario(name, quick, runId, root, out, params, limits.getOrDefault(name, 0),
                        () -> record(progress, name, "failed"));
                // what a scenario left for the collector is not the next one's to pay for, and threads it did not stop
                // would take CPU from it: say so
                System.gc();
                String left = newThreads(threadsBefore, threadNames());
                if (!left.isEmpty()) {
                    System.out.printf("(threads %s left running: %s)%n", name, left);
                }
            }
            if (s == 3) {
                return 3; // timed out: the watchdog has recorded it and is ending the JVM
            }
            record(progress, name, s == 0 ? "ok" : "failed");
            status = Math.max(status, s == 0 ? 0 : 1);
        }
        return status;
    }

    /** Parses {@code name=seconds,name=seconds}. */
    static Map<String, Integer> limits(String spec) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String kv : spec.split(",")) {
            String[] p = kv.trim().split("=", 2);
            if (p.length == 2 && !p[0].isBlank()) {
                m.put(p[0].trim(), Integer.parseInt(p[1].trim()));
            }
        }
        return m;
    }

    private static void record(Path progress, String name, String status) {
        if (progress == null) {
            return;
        }
        try {
            Files.writeString(progress, name + " " + status + "\n", java.nio.charset.StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            System.err.println("cannot record progress in " + progress + ": " + e);
        }
    }

    /** Points llmq's and the libraries' logging (log4j2-bench.xml, {@code ${sys:bench.log}}) at {@code file}. */
    private static void logTo(Path file) {
        System.setProperty("bench.log", file.toString());
        org.apache.logging.log4j.core.config.Configurator.reconfigure();
    }

    private static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).toList();
    }

    /**
     * The threads in {@code after} that were not in {@code before}, by name with their numbers folded ({@code
     * "HttpClient-#-Worker-# ×86, kafka-scheduler-# ×2"}), or "" if none.
     */
    static String newThreads(List<String> before, List<String> after) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        after.forEach(n -> counts.merge(n, 1, Integer::sum));
        before.forEach(n -> counts.computeIfPresent(n, (k, c) -> c > 1 ? c - 1 : null));
        Map<String, Integer> folded = new java.util.TreeMap<>();
        counts.forEach((n, c) -> folded.merge(n.replaceAll("\\d+", "#"), c, Integer::sum));
        StringBuilder b = new StringBuilder();
        folded.forEach((n, c) -> b.append(b.isEmpty() ? "" : ", ").append(n).append(c > 1 ? " ×" + c : ""));
        return b.toString();
    }

    /**
     * Runs one scenario and writes its result. With {@code limitSeconds} > 0 a watchdog writes a
     * "failed: timed out" result at the limit and ends the JVM (its shutdown hooks stop what the
     * scenario started), so a stuck scenario still leaves a record.
     */
    static int runScenario(String name, boolean quick, String runId, Path root, Path out, Map<String, String> params,
                           int limitSeconds, Runnable beforeTimeoutExit) throws Exception {
        Optional<Scenario> found = Scenarios.byName(name);
        if (found.isEmpty()) {
            System.err.println("no scenario " + name + "; known: " + Scenarios.all().stream().map(Scenario::name).toList());
            return 2;
        }
        Scenario scenario = found.get();
        RunContext ctx = new RunContext(name, quick, runId, root, out, params);
        Result result = new Result(name, scenario.title(), runId, quick);
        ctx.log("%s — %s mode, run %s", scenario.title(), quick ? "quick" : "full", runId);
        long t0 = System.nanoTime();
        AtomicBoolean written = new AtomicBoolean();
        Thread watchdog = null;
        if (limitSeconds > 0) {
            watchdog = new Thread(() -> {
                try {
                    Thread.sleep(limitSeconds * 1000L);
                } catch (InterruptedException e) {
                    return;
                }
                if (written.compareAndSet(false, true)) {
                    result.status("failed");
                    result.note("failed: timed out after " + limitSeconds + " s");
                    try {
                        ctx.results().write(name, result.finish((System.nanoTime() - t0) / 1e9));
                    } catch (Exception e) {
                        System.err.println("cannot write the result: " + e);
                    }
                    ctx.log("timed out after %d s; stopping", limitSeconds);
                    beforeTimeoutExit.run();
                    System.exit(3);
                }
            }, "bench-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        int status = 0;
        try {
            scenario.run(ctx, result);
        } catch (Exception | Error e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            result.status("failed");
            result.note("failed: " + e);
            result.details().put("stack_trace", trace.toString());
            System.err.println(trace);
            status = 1;
        }
        if (!written.compareAndSet(false, true)) {
            return 3; // the watchdog has written the result and is ending the JVM
        }
        if (watchdog != null) {
            watchdog.interrupt();
        }
        ObjectNode doc = result.finish((System.nanoTime() - t0) / 1e9);
        ctx.results().write(name, doc);
        summary(ctx, doc);
        ctx.cleanScratch();
        return status;
    }

    private static void summary(RunContext ctx, ObjectNode doc) {
        ctx.log("%s in %.0f s → %s", doc.path("status").asText(), doc.path("seconds").asDouble(),
                ctx.root().relativize(ctx.results().latest(doc.path("scenario").asText())));
        for (JsonNode f : doc.path("figures")) {
            ctx.log("  %-70s %s %s", f.path("label").asText(), Renderer.number(num(f)), f.path("unit").asText());
        }
        for (JsonNode r : doc.path("ratios")) {
            ctx.log("  ratio %-64s %s", r.path("label").asText(), Renderer.number(num(r)));
        }
    }

    private static Double num(JsonNode n) {
        return n.path("value").isNumber() ? n.path("value").asDouble() : null;
    }

    /** The repository root: -Dbench.root, else the first directory upwards holding bench/pom.xml. */
    static Path root() {
        String configured = System.getProperty("bench.root");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("bench").resolve("pom.xml"))) {
                return d;
            }
        }
        return Path.of("").toAbsolutePath();
    }

    private static void usage() {
        System.err.println("usage: BenchMain list | suite NAME... [--quick] [--run-id ID] [--out DIR] [--limits name=s,...] "
                + "[--progress FILE] [--param k=v]... | scenario NAME [as suite] | render [--out DIR] [--doc FILE]");
    }
}
