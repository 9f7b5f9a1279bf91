package llmq.bench.rig;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Warm-up until the JIT is done, not for a fixed time. The system under test runs in the harness's
 * JVM in most scenarios, and on two cores its JIT compilers take a large part of a core for tens of
 * seconds: in the smoke runs a C2 compiler thread used 35 % of the machine while a capacity search
 * was already stepping, so the first steps ran slower than the later ones and the search's outcome
 * depended on when each rate was tried. {@link #warmUp} repeats a warm-up round until the JIT spent
 * at most a given share of the round's wall time compiling ({@link CompilationMXBean}: the time of
 * all compiler threads, summed).
 */
public final class Jit {

    /** One warm-up round. */
    @FunctionalInterface
    public interface Round {
        void run() throws Exception;
    }

    /** What the warm-up did: the compile share of each round, and whether the last was under the limit. */
    public record WarmUp(List<Double> compileShares, boolean steady) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (double s : compileShares) {
                b.append(b.isEmpty() ? "" : ", ").append(Math.round(s * 100)).append(" %");
            }
            return compileShares.size() + " rounds, JIT compiling " + b + " of each round's time"
                    + (steady ? "" : " (not yet steady at the last round)");
        }
    }

    private Jit() {
    }

    /** Milliseconds the JIT compilers have spent so far, summed over their threads; -1 if not measured. */
    public static long compileMillis() {
        CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
        return bean != null && bean.isCompilationTimeMonitoringSupported() ? bean.getTotalCompilationTime() : -1;
    }

    /**
     * Runs {@code round} at least {@code minRounds} and at most {@code maxRounds} times, until the
     * JIT's compile time during a round is at most {@code maxShare} of the round's wall time. Without
     * compile-time monitoring it runs {@code minRounds}.
     */
    public static WarmUp warmUp(int minRounds, int maxRounds, double maxShare, Round round) throws Exception {
        List<Double> shares = new ArrayList<>();
        for (int i = 1; i <= maxRounds; i++) {
            long c0 = compileMillis();
            long t0 = System.nanoTime();
            round.run();
            long c1 = compileMillis();
            double wallMs = Math.max(1, (System.nanoTime() - t0) / 1e6);
            if (c0 < 0 || c1 < 0) {
                if (i >= minRounds) {
                    return new WarmUp(shares, false);
                }
                continue;
            }
            double share = (c1 - c0) / wallMs;
            shares.add(share);
            if (i >= minRounds && share <= maxShare) {
                return new WarmUp(shares, true);
            }
        }
        return new WarmUp(shares, false);
    }

    /** What {@link #awaitQuiet} saw: how long it waited and the compile share of its last window. */
    public record Quiet(long waitedMillis, double lastShare, boolean quiet) {
        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "JIT %s after %.1f s (compiling %.0f %% of the last window)",
                    quiet ? "quiet" : "still busy", waitedMillis / 1000.0, lastShare * 100);
        }
    }

    /**
     * Waits, with the system idle, until the JIT compiled for at most {@code maxShare} of a
     * {@code window}, or {@code cap} passed. On two cores a still-busy compiler thread takes half the
     * machine from whatever runs beside it: a {@code ProducerPerformance} round in its own JVM read
     * 32 000 records/s while this JVM's compiler worked through its queue, and 68 000-78 000 once it
     * had; so a ceiling round waits for this first.
     */
    public static Quiet awaitQuiet(double maxShare, java.time.Duration window, java.time.Duration cap)
            throws InterruptedException {
        return awaitQuiet(maxShare, window.toMillis(), cap.toMillis(), Jit::compileMillis, Thread::sleep);
    }

    /** Sleeps for a number of milliseconds (a seam for tests). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    static Quiet awaitQuiet(double maxShare, long windowMillis, long capMillis, LongSupplier compileMillis, Sleeper sleeper)
            throws InterruptedException {
        long waited = 0;
        double share = 0;
        while (true) {
            long c0 = compileMillis.getAsLong();
            sleeper.sleep(windowMillis);
            waited += windowMillis;
            long c1 = compileMillis.getAsLong();
            if (c0 < 0 || c1 < 0) {
                return new Quiet(waited, -1, false);
            }
            share = (c1 - c0) / (double) windowMillis;
            if (share <= maxShare) {
                return new Quiet(waited, share, true);
            }
            if (waited >= capMillis) {
                return new Quiet(waited, share, false);
            }
        }
    }
}
