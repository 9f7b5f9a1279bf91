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
 * The harness's command line (called by {@code bench/run}, one JVM per scenario):
 *
 * <pre>
 * BenchMain list                                   scenario names, in run order
 * BenchMain scenario NAME [--quick] [--run-id ID] [--out DIR] [--limit SECONDS] [--param key=value]...
 *                                                  runs one scenario, writes DIR/NAME.json (and the former
 *                                                  one as NAME.previous.json), exits 0, or 1 if it failed
 * BenchMain render [--out DIR] [--doc FILE]        prints the results table and rewrites its part of FILE
 * </pre>
 * DIR defaults to docs/benchmarks and FILE to docs/benchmarks.md, under the repository root
 * ({@code -Dbench.root}, else found upwards from the working directory).
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
            case "scenario" -> {
                if (positional.isEmpty()) {
                    usage();
                    System.exit(2);
                }
                String runId = options.getOrDefault("run-id",
                        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                int limit = Integer.parseInt(options.getOrDefault("limit", "0"));
                System.exit(runScenario(positional.get(0), quick, runId, root, out, params, limit));
            }
            default -> {
                usage();
                System.exit(2);
            }
        }
    }

    /**
     * Runs one scenario and writes its result. With {@code limitSeconds} > 0 a watchdog writes a
     * "failed: timed out" result at the limit and ends the JVM (its shutdown hooks stop what the
     * scenario started), so a stuck scenario still leaves a record.
     */
    static int runScenario(String name, boolean quick, String runId, Path root, Path out, Map<String, String> params,
                           int limitSeconds) throws Exception {
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
        if (limitSeconds > 0) {
            Thread watchdog = new Thread(() -> {
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
        System.err.println("usage: BenchMain list | scenario NAME [--quick] [--run-id ID] [--out DIR] [--param k=v]... "
                + "| render [--out DIR] [--doc FILE]");
    }
}
