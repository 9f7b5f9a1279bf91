package llmq.bench.load;

/**
 * Epoch time in microseconds from the monotonic clock, anchored once per JVM to the wall clock,
 * so intended send times and observed completions are on one clock that never steps, and can still
 * be compared with the millisecond timestamps llmq writes into its events.
 */
public final class BenchClock {

    private static final long ANCHOR_NANOS = System.nanoTime();
    private static final long ANCHOR_EPOCH_MICROS = System.currentTimeMillis() * 1000;

    private BenchClock() {
    }

    /** Now, in epoch microseconds. */
    public static long nowMicros() {
        return toEpochMicros(System.nanoTime());
    }

    /** A {@link System#nanoTime()} reading as epoch microseconds. */
    public static long toEpochMicros(long nanoTime) {
        return ANCHOR_EPOCH_MICROS + (nanoTime - ANCHOR_NANOS) / 1000;
    }
}
