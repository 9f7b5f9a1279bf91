package llmq.worker.retry;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.worker.model.ModelCallException;

/**
 * Decides what happens after a failed call: retry later (and not before when), or give up.
 * The worker does not wait for the retry itself: it reports {@code RETRY_SCHEDULED} with the
 * not-before time and the router re-parks the request and releases it again with the next
 * attempt number, so a backing-off request holds no slot and no memory in any worker.
 *
 * <p>Retryable failures (429, 408, 5xx, connect errors, timeouts) are retried up to
 * {@code maxRetries} times: attempt {@code maxRetries + 1} is the last. The delay is
 * exponential with jitter (Resilience4j's {@link IntervalFunction}) and never shorter than the
 * endpoint's {@code Retry-After}.
 */
public final class RetryPolicy {

    /**
     * Retry settings. Keys and defaults: {@code worker.retry.max-retries} (3),
     * {@code worker.retry.initial-backoff} (500ms), {@code worker.retry.multiplier} (2.0),
     * {@code worker.retry.max-backoff} (30s), {@code worker.retry.jitter} (0.5: each delay is
     * drawn from ±50 % around the exponential value), {@code worker.retry.max-retry-after} (10m:
     * a longer {@code Retry-After} is capped to this).
     */
    public record Config(int maxRetries, Duration initialBackoff, double multiplier, Duration maxBackoff,
                         double jitter, Duration maxRetryAfter) {

        public Config {
            if (maxRetries < 0) {
                throw new ConfigException("worker.retry.max-retries", Integer.toString(maxRetries), "must be 0 or more");
            }
            if (initialBackoff.isZero() || initialBackoff.isNegative()) {
                throw new ConfigException("worker.retry.initial-backoff", initialBackoff.toString(), "must be positive");
            }
            if (!(multiplier >= 1.0)) {
                throw new ConfigException("worker.retry.multiplier", Double.toString(multiplier), "must be at least 1");
            }
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new ConfigException("worker.retry.max-backoff", maxBackoff.toString(),
                        "must be at least worker.retry.initial-backoff");
            }
            if (!(jitter >= 0.0 && jitter < 1.0)) {
                throw new ConfigException("worker.retry.jitter", Double.toString(jitter), "must be in [0, 1)");
            }
        }

        public static Config from(Settings s) {
            return new Config(
                    s.integer("worker.retry.max-retries", 3),
                    s.duration("worker.retry.initial-backoff", Duration.ofMillis(500)),
                    s.decimal("worker.retry.multiplier", 2.0),
                    s.duration("worker.retry.max-backoff", Duration.ofSeconds(30)),
                    s.decimal("worker.retry.jitter", 0.5),
                    s.duration("worker.retry.max-retry-after", Duration.ofMinutes(10)));
        }

        public static Config defaults() {
            return from(Settings.of(java.util.Map.of()));
        }
    }

    /** What to do with a failed attempt. */
    public sealed interface Decision permits Retry, GiveUp {
    }

    /** Try again with the next attempt number, not before {@code notBefore}. */
    public record Retry(Instant notBefore, Duration delay) implements Decision {
    }

    /** Final failure: dead-letter the request. {@code why} is appended to the failure reason. */
    public record GiveUp(String why) implements Decision {
    }

    private final Config config;
    private final IntervalFunction backoff;

    public RetryPolicy(Config config) {
        this.config = config;
        this.backoff = config.jitter() == 0.0
                ? IntervalFunction.ofExponentialBackoff(config.initialBackoff(), config.multiplier(), config.maxBackoff())
                : IntervalFunction.ofExponentialRandomBackoff(config.initialBackoff(), config.multiplier(),
                        config.jitter(), config.maxBackoff());
    }

    public Config config() {
        return config;
    }

    /** The last attempt number that is made: {@code maxRetries + 1}. */
    public int maxAttempts() {
        return config.maxRetries() + 1;
    }

    /**
     * @param failure the failure of attempt {@code attempt}
     * @param attempt the attempt that failed (1 for the first call)
     * @param now     when it failed
     */
    public Decision decide(ModelCallException failure, int attempt, Instant now) {
        if (!failure.retryable()) {
            return new GiveUp("not retryable");
        }
        if (attempt >= maxAttempts()) {
            return new GiveUp("attempt " + attempt + " of " + maxAttempts() + " failed, no retries left");
        }
        Duration delay = Duration.ofMillis(backoff.apply(Math.max(1, attempt)));
        Duration retryAfter = failure.retryAfter();
        if (retryAfter != null && !retryAfter.isNegative()) {
            Duration honoured = retryAfter.compareTo(config.maxRetryAfter()) > 0 ? config.maxRetryAfter() : retryAfter;
            // spread the callers an endpoint told to come back at the same moment over up to a tenth more
            long spread = (long) (honoured.toMillis() * 0.1 * config.jitter() * ThreadLocalRandom.current().nextDouble());
            Duration afterRetryAfter = honoured.plusMillis(spread);
            if (afterRetryAfter.compareTo(delay) > 0) {
                delay = afterRetryAfter;
            }
        }
        return new Retry(now.plus(delay), delay);
    }
}
