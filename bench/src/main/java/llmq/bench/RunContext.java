package llmq.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import llmq.bench.report.ResultFiles;

/**
 * What a scenario runs with: quick or full sizes, the run id shared by all scenarios of one
 * {@code bench/run}, where results go, a scratch directory, and parameter overrides
 * ({@code --param key=value} or {@code -Dbench.<scenario>.<key>=value}).
 */
public final class RunContext {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final String scenario;
    private final boolean quick;
    private final String runId;
    private final Path root;
    private final ResultFiles results;
    private final Path work;
    private final Map<String, String> params;

    public RunContext(String scenario, boolean quick, String runId, Path root, Path out, Map<String, String> params) {
        this.scenario = scenario;
        this.quick = quick;
        this.runId = runId;
        this.root = root;
        this.results = new ResultFiles(out);
        this.work = root.resolve("bench").resolve("target").resolve("bench-work").resolve(scenario);
        this.params = Map.copyOf(params);
    }

    public boolean quick() {
        return quick;
    }

    /** The scenario's name. */
    public String scenario() {
        return scenario;
    }

    public String runId() {
        return runId;
    }

    /** The repository's root directory. */
    public Path root() {
        return root;
    }

    /** The results directory (docs/benchmarks/ unless told otherwise). */
    public ResultFiles results() {
        return results;
    }

    /** A fresh scratch directory under bench/target/bench-work/&lt;scenario&gt;/. */
    public Path scratch(String name) {
        try {
            return Files.createDirectories(work.resolve(name + "-" + System.nanoTime()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the scenario's scratch directories (brokers' logs, databases), best effort. */
    public void cleanScratch() {
        if (!Files.exists(work)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log("could not delete %s: %s", work, e);
        }
    }

    /** The scenario's log directory (child processes' output). */
    public Path logs() {
        return root.resolve("bench").resolve("target").resolve("bench-logs");
    }

    /** An integer parameter: the override if given, else the full or quick default. */
    public int param(String key, int full, int quickValue) {
        String v = raw(key);
        return v != null ? Integer.parseInt(v.trim()) : quick ? quickValue : full;
    }

    /** A decimal parameter. */
    public double param(String key, double full, double quickValue) {
        String v = raw(key);
        return v != null ? Double.parseDouble(v.trim()) : quick ? quickValue : full;
    }

    /** A text parameter. */
    public String param(String key, String dflt) {
        String v = raw(key);
        return v != null ? v.trim() : dflt;
    }

    /**
     * llmq settings for experiments, from {@code --param set=key=value;key=value} (empty if not given).
     * Scenarios apply them on top of their own, and record them in their JSON.
     */
    public java.util.Map<String, String> settings() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String kv : param("set", "").split(";")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        return m;
    }

    private String raw(String key) {
        String v = params.get(key);
        return v != null ? v : System.getProperty("bench." + scenario + "." + key);
    }

    /** A progress line on the console. */
    public void log(String format, Object... args) {
        System.out.printf("[%s %s] %s%n", LocalTime.now().format(CLOCK), scenario,
                args.length == 0 ? format : String.format(java.util.Locale.ROOT, format, args));
        System.out.flush();
    }
}
