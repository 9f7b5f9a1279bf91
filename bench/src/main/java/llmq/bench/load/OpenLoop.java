package llmq.bench.load;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * An open-loop pacer: request {@code i} is due at {@code start + i / rate}, whether or not earlier
 * ones have been answered, and its latency is counted from that intended time, not from when it
 * was actually sent, so a stalled system cannot hide its queueing by slowing the generator down
 * (coordinated omission, Gil Tene). Waits by parking, never spinning: on two cores a spinning
 * generator would steal a core from the system under test.
 */
public final class OpenLoop {

    /** Sends request {@code i}, intended at {@code intendedMicros} (epoch microseconds). */
    @FunctionalInterface
    public interface Sender {
        void send(long i, long intendedMicros) throws Exception;
    }

    private OpenLoop() {
    }

    /** Runs {@code rate × duration} sends; returns how many were sent. */
    public static long run(double rate, Duration duration, Sender sender) throws Exception {
        return run(rate, Math.round(rate * duration.toNanos() / 1e9), sender, () -> false);
    }

    /** Sends {@code count} requests at {@code rate}/s, stopping early when {@code stop} says so. */
    public static long run(double rate, long count, Sender sender, BooleanSupplier stop) throws Exception {
        if (rate <= 0) {
            throw new IllegalArgumentException("rate must be positive: " + rate);
        }
        long start = System.nanoTime();
        double interval = 1e9 / rate;
        long sent = 0;
        for (long i = 0; i < count; i++) {
            long due = start + (long) (i * interval);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            if (stop.getAsBoolean()) {
                break;
            }
            sender.send(i, BenchClock.toEpochMicros(due));
            sent++;
        }
        return sent;
    }
}
