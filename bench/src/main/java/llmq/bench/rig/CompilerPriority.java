package llmq.bench.rig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Lets this JVM's JIT compiler threads run ahead of everything else while a scenario warms up, and
 * puts them back at the default priority before it measures.
 *
 * <p>Why: on two cores, a warm-up round at saturation keeps dozens of application threads runnable,
 * and the two compiler threads get their fair share of the cores, which is small. The compile work
 * itself is bounded (the ingest stack compiled for about 35 s of CPU in all), but starved it took
 * over 100 s of wall time (run 20261207 ingest experiment: 14 warm-up rounds with the compilers busy
 * 80-112 % of each round; the same run with the compilers at nice -10 needed 2). At a raised priority
 * the compile queue drains as fast as a core allows while the warm-up load keeps the profiles
 * coming. Measurements run with the compilers at nice 0 again, so no measured second has the JIT
 * preempting the system under test more than it would in production.
 *
 * <p>Linux only ({@code /proc/self/task/<tid>/comm} names the threads "C1 CompilerThre…" and
 * "C2 CompilerThre…"; {@code renice} sets a thread's nice value by its id). Raising a priority needs
 * root or CAP_SYS_NICE; without it, or anywhere else, the boost does nothing and says so, and the
 * warm-ups just take longer.
 */
public final class CompilerPriority implements AutoCloseable {

    /** The nice value of the compiler threads during a warm-up. */
    public static final int BOOSTED = -10;
    private static final int NORMAL = 0;

    private final List<Long> threads;
    private final String outcome;

    private CompilerPriority(List<Long> threads, String outcome) {
        this.threads = threads;
        this.outcome = outcome;
    }

    /** Raises the compiler threads to nice {@value #BOOSTED} until {@link #close()}. */
    public static CompilerPriority boost() {
        List<Long> tids = compilerThreads(Path.of("/proc/self/task"));
        if (tids.isEmpty()) {
            return new CompilerPriority(List.of(), "compiler threads not found (not Linux?): priority unchanged");
        }
        String failure = renice(BOOSTED, tids);
        if (failure != null) {
            return new CompilerPriority(List.of(), "compiler priority unchanged (" + failure + ")");
        }
        return new CompilerPriority(tids, tids.size() + " compiler threads at nice " + BOOSTED);
    }

    /** Whether the compiler threads were raised. */
    public boolean raised() {
        return !threads.isEmpty();
    }

    @Override
    public String toString() {
        return outcome;
    }

    /** Back to nice 0: every compiler thread there is now (threads started meanwhile inherited the raised value). */
    @Override
    public void close() {
        if (threads.isEmpty()) {
            return;
        }
        List<Long> now = compilerThreads(Path.of("/proc/self/task"));
        String failure = renice(NORMAL, now.isEmpty() ? threads : now);
        if (failure != null) {
            throw new IllegalStateException("cannot put the JIT compiler threads back at nice 0 (" + failure
                    + "): what follows would be measured with them raised");
        }
    }

    /** The ids of the threads under {@code taskDir} (a /proc/&lt;pid&gt;/task directory) that are JIT compilers. */
    static List<Long> compilerThreads(Path taskDir) {
        List<Long> tids = new ArrayList<>();
        if (!Files.isDirectory(taskDir)) {
            return tids;
        }
        try (Stream<Path> tasks = Files.list(taskDir)) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
                    tids.add(Long.parseLong(task.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        tids.sort(null);
        return tids;
    }

    /** Sets the nice value of the given threads; null on success, else why not. */
    private static String renice(int nice, List<Long> tids) {
        List<String> cmd = new ArrayList<>(List.of("renice", "--priority", Integer.toString(nice), "-p"));
        tids.forEach(t -> cmd.add(Long.toString(t)));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "renice did not finish";
            }
            return p.exitValue() == 0 ? null : "renice: " + out;
        } catch (IOException e) {
            return "no renice: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
