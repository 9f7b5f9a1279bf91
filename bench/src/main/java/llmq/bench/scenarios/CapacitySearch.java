package llmq.bench.scenarios;

import java.util.Arrays;
import llmq.bench.RunContext;
import llmq.bench.rig.Jit;

/**
 * Finds the highest rate a system sustains: a rising ladder of rates until one is not sustained,
 * then bisection between the last sustained rate and the first one that was not, until the two are
 * within {@code resolution} of each other (a fraction of the sustained rate). The figure is then not
 * tied to the ladder's rungs: with rungs 100 apart, a system that sustains 590/s and one that sustains
 * 510/s would both read 500.
 *
 * <p>A probe that fails narrowly is run once more before it counts (outside quick mode): one hiccup —
 * a GC pause, a log roll, a slow commit, the JIT compiling the overload paths for the first time — must
 * not end the search. One that fails by far ({@link Probe#narrowly}) is not: that costs time and tells
 * nothing. The probe itself records what it measured; the search only steers.
 *
 * <p>Before each step the search lets the system settle ({@link #GC_AND_PAUSE}): the system under test
 * runs in this JVM, so a full collection gives every step the same heap to start from, and a pause
 * lets it work off what is left of the step before (longer after a step that failed: in the smoke
 * runs, the steps right after an overloaded one failed at rates that held before it).
 */
final class CapacitySearch {

    /** One step at an offered rate: true when the system sustained it. {@code attempt} is 1 or 2. */
    interface Probe {
        boolean sustains(int rate, int attempt) throws Exception;

        /**
         * Whether the step that just failed failed narrowly, so a second attempt could pass (the default);
         * false when it failed by far (errors, or a latency many times the limit), which no hiccup explains.
         */
        default boolean narrowly() {
            return true;
        }
    }

    /** A probe whose failures are retried only when {@code narrowly} says the last one was narrow. */
    static Probe probe(Probe body, java.util.function.BooleanSupplier narrowly) {
        return new Probe() {
            @Override
            public boolean sustains(int rate, int attempt) throws Exception {
                return body.sustains(rate, attempt);
            }

            @Override
            public boolean narrowly() {
                return narrowly.getAsBoolean();
            }
        };
    }

    /** What happens before each step; {@code afterFailure} when the step before it was not sustained. */
    interface Settle {
        void before(boolean afterFailure) throws InterruptedException;
    }

    /** A full GC, then 1 s, or 5 s after a failed step. */
    static final Settle GC_AND_PAUSE = afterFailure -> {
        System.gc();
        Thread.sleep(afterFailure ? 5_000 : 1_000);
    };

    /**
     * As {@link #GC_AND_PAUSE}, then up to 8 s more until the JIT compiled for at most 10 % of half a second: the system
     * under test shares this JVM, and a step run while its compiler still takes a core of two measures the JIT
     * (in consecutive runs the first try of 3 200/s read a p99 of 643 ms and 72 ms).
     */
    static final Settle GC_PAUSE_AND_QUIET_JIT = afterFailure -> {
        GC_AND_PAUSE.before(afterFailure);
        Jit.awaitQuiet(0.1, java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(8));
    };

    /** The result: the highest sustained rate (0 if none) and the lowest failed one (-1 if every rung held). */
    record Outcome(int sustained, int failed) {
        boolean aboveLadder() {
            return failed < 0;
        }
    }

    private CapacitySearch() {
    }

    /** Parses a comma-separated ladder of rates, ascending. */
    static int[] ladder(String rates) {
        int[] r = Arrays.stream(rates.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .mapToInt(Integer::parseInt).toArray();
        for (int i = 1; i < r.length; i++) {
            if (r[i] <= r[i - 1]) {
                throw new IllegalArgumentException("rates must be ascending: " + rates);
            }
        }
        return r;
    }

    /**
     * The rungs of {@code ladder} from the highest one at or under {@code rate} on (all of them if none is):
     * a search need not try again rates a warm-up already showed the system sustains.
     */
    static int[] from(int[] ladder, int rate) {
        int first = 0;
        for (int i = 0; i < ladder.length; i++) {
            if (ladder[i] <= rate) {
                first = i;
            }
        }
        return Arrays.copyOfRange(ladder, first, ladder.length);
    }

    /**
     * Runs the ladder, then bisects. {@code grain} is the coarsest rate step worth telling apart
     * (rates tried are multiples of it).
     */
    static Outcome find(RunContext ctx, int[] ladder, double resolution, int grain, Probe probe) throws Exception {
        return find(ctx, ladder, resolution, grain, ctx.quick() ? f -> System.gc() : GC_PAUSE_AND_QUIET_JIT, probe);
    }

    static Outcome find(RunContext ctx, int[] ladder, double resolution, int grain, Settle settle, Probe probe)
            throws Exception {
        Probe settled = new Probe() {
            private boolean lastFailed;

            @Override
            public boolean sustains(int rate, int attempt) throws Exception {
                settle.before(lastFailed);
                boolean ok = probe.sustains(rate, attempt);
                lastFailed = !ok;
                return ok;
            }

            @Override
            public boolean narrowly() {
                return probe.narrowly();
            }
        };
        return search(ctx, ladder, resolution, grain, settled);
    }

    private static Outcome search(RunContext ctx, int[] ladder, double resolution, int grain, Probe probe) throws Exception {
        int ok = 0;
        int failed = -1;
        for (int rate : ladder) {
            if (sustains(ctx, rate, probe)) {
                ok = rate;
            } else {
                failed = rate;
                break;
            }
        }
        if (failed < 0) {
            return new Outcome(ok, -1);
        }
        while (failed - ok > Math.max(grain, resolution * ok)) {
            int mid = (int) Math.round((ok + failed) / 2.0 / grain) * grain;
            if (mid <= ok || mid >= failed) {
                break;
            }
            ctx.log("        bisecting between %d/s and %d/s: %d/s", ok, failed, mid);
            if (sustains(ctx, mid, probe)) {
                ok = mid;
            } else {
                failed = mid;
            }
        }
        return new Outcome(ok, failed);
    }

    private static boolean sustains(RunContext ctx, int rate, Probe probe) throws Exception {
        if (probe.sustains(rate, 1)) {
            return true;
        }
        if (ctx.quick()) {
            return false;
        }
        if (!probe.narrowly()) {
            ctx.log("        failed by far: not run again");
            return false;
        }
        ctx.log("        once more at %d/s", rate);
        return probe.sustains(rate, 2);
    }
}
