package llmq.bench.rig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Java program in its own process (Kafka's tools, {@code llmq up}), its output in a log file. Every
 * child still running when the harness's JVM exits — normally, on SIGTERM from the run script's
 * time limit, or on an error — is killed by a shutdown hook, so no scenario leaves processes behind.
 */
public final class ChildJvm implements AutoCloseable {

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }), "bench-children-stop"));
    }

    private final Process process;
    private final Path log;
    private final long startNanos;

    private ChildJvm(Process process, Path log, long startNanos) {
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
    }

    /** Starts {@code java <jvmOptions> -cp <classpath> <mainClass> <args>} in {@code workDir}. */
    public static ChildJvm start(String classpath, List<String> jvmOptions, String mainClass, List<String> args,
                                 Path workDir, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(args);
        Files.createDirectories(log.toAbsolutePath().getParent());
        Files.createDirectories(workDir);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
        LIVE.add(p);
        return new ChildJvm(p, log, t0);
    }

    /** This JVM's own classpath (which holds Kafka's tools and the whole of llmq). */
    public static String ownClasspath() {
        return System.getProperty("java.class.path");
    }

    public long pid() {
        return process.pid();
    }

    /** {@link System#nanoTime()} just before the process was started. */
    public long startNanos() {
        return startNanos;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Waits for the process to end; its exit code, or -1 if it was still running after {@code timeout} (then killed). */
    public int await(Duration timeout) throws InterruptedException {
        if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            LIVE.remove(process);
            return process.exitValue();
        }
        close();
        return -1;
    }

    /** SIGTERM, then SIGKILL after {@code grace}. */
    public void stop(Duration grace) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        LIVE.remove(process);
    }

    /** Resident memory now, KiB ({@code VmRSS} of /proc/&lt;pid&gt;/status); -1 if unreadable. */
    public long rssKib() {
        return ProcStatus.kib(pid(), "VmRSS:");
    }

    /** Peak resident memory so far, KiB ({@code VmHWM}); -1 if unreadable. */
    public long peakRssKib() {
        return ProcStatus.kib(pid(), "VmHWM:");
    }

    /** The output so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        LIVE.remove(process);
    }
}
