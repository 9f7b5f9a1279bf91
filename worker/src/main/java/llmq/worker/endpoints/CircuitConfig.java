package llmq.worker.endpoints;

import java.time.Duration;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;

/**
 * The circuit breaker every endpoint gets (Resilience4j, count-based window). Keys and
 * defaults: {@code worker.circuit.failure-rate} (50: percent of failed calls that opens it),
 * {@code worker.circuit.window} (20 calls), {@code worker.circuit.minimum-calls} (10, before
 * which it never opens), {@code worker.circuit.open-duration} (10s before it lets probes
 * through), {@code worker.circuit.half-open-calls} (3 probe calls that decide whether it closes).
 * Failures are 5xx, timeouts, connection and protocol errors; 429 counts neither way; other 4xx
 * are the request's fault and count as successes of the endpoint.
 */
public record CircuitConfig(float failureRate, int window, int minimumCalls, Duration openDuration, int halfOpenCalls) {

    public CircuitConfig {
        if (!(failureRate > 0 && failureRate <= 100)) {
            throw new ConfigException("worker.circuit.failure-rate", Float.toString(failureRate), "must be in (0, 100]");
        }
        if (window < 1) {
            throw new ConfigException("worker.circuit.window", Integer.toString(window), "must be at least 1");
        }
        if (minimumCalls < 1) {
            throw new ConfigException("worker.circuit.minimum-calls", Integer.toString(minimumCalls), "must be at least 1");
        }
        if (openDuration.isZero() || openDuration.isNegative()) {
            throw new ConfigException("worker.circuit.open-duration", openDuration.toString(), "must be positive");
        }
        if (halfOpenCalls < 1) {
            throw new ConfigException("worker.circuit.half-open-calls", Integer.toString(halfOpenCalls), "must be at least 1");
        }
    }

    public static CircuitConfig from(Settings s) {
        return new CircuitConfig(
                (float) s.decimal("worker.circuit.failure-rate", 50),
                s.integer("worker.circuit.window", 20),
                s.integer("worker.circuit.minimum-calls", 10),
                s.duration("worker.circuit.open-duration", Duration.ofSeconds(10)),
                s.integer("worker.circuit.half-open-calls", 3));
    }
}
