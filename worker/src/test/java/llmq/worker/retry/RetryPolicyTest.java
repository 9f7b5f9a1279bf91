package llmq.worker.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import llmq.worker.model.ModelCallException;
import org.junit.jupiter.api.Test;

/** Retry decisions: what is retried, how long to wait, and when to give up. */
class RetryPolicyTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
    private final RetryPolicy policy = new RetryPolicy(new RetryPolicy.Config(3, Duration.ofMillis(500), 2.0,
            Duration.ofSeconds(30), 0.5, Duration.ofMinutes(10)));

    private static ModelCallException status(int code, Duration retryAfter) {
        return ModelCallException.forStatus(code, "x", retryAfter, "ep");
    }

    @Test
    void shouldRetryRateLimitsServerErrorsTimeoutsAndConnectionFailures() {
        assertThat(policy.decide(status(429, null), 1, NOW)).isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(status(408, null), 1, NOW)).isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(status(500, null), 1, NOW)).isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(status(503, null), 1, NOW)).isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(new ModelCallException("connect_error", "refused", null, true, null, "ep", null), 1, NOW))
                .isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(new ModelCallException("timeout", "slow", null, true, null, "ep", null), 1, NOW))
                .isInstanceOf(RetryPolicy.Retry.class);
    }

    @Test
    void shouldGiveUpAtOnceOnOtherClientErrors() {
        for (int code : new int[] {400, 401, 403, 404, 409, 413, 422}) {
            assertThat(policy.decide(status(code, null), 1, NOW)).as("HTTP %d", code).isInstanceOf(RetryPolicy.GiveUp.class);
        }
    }

    @Test
    void shouldMakeThreeRetriesSoTheFourthAttemptIsTheLast() {
        assertThat(policy.maxAttempts()).isEqualTo(4);
        assertThat(policy.decide(status(500, null), 3, NOW)).isInstanceOf(RetryPolicy.Retry.class);
        assertThat(policy.decide(status(500, null), 4, NOW)).isInstanceOfSatisfying(RetryPolicy.GiveUp.class,
                g -> assertThat(g.why()).contains("no retries left"));
    }

    @Test
    void shouldNeverRetryBeforeRetryAfter() {
        for (int i = 0; i < 200; i++) {
            RetryPolicy.Retry r = (RetryPolicy.Retry) policy.decide(status(429, Duration.ofSeconds(7)), 1, NOW);
            assertThat(r.notBefore()).isAfterOrEqualTo(NOW.plusSeconds(7));
            assertThat(r.delay()).isLessThanOrEqualTo(Duration.ofMillis(7_350));
        }
    }

    @Test
    void shouldBackOffExponentiallyWithJitterWithinItsBounds() {
        for (int attempt = 1; attempt <= 3; attempt++) {
            double base = 500 * Math.pow(2, attempt - 1);
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int i = 0; i < 300; i++) {
                long d = ((RetryPolicy.Retry) policy.decide(status(500, null), attempt, NOW)).delay().toMillis();
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            assertThat(min).as("attempt %d", attempt).isGreaterThanOrEqualTo((long) (base * 0.5) - 1);
            assertThat(max).as("attempt %d", attempt).isLessThanOrEqualTo((long) (base * 1.5) + 1);
            assertThat(max - min).as("jitter spreads attempt %d", attempt).isGreaterThan((long) (base * 0.3));
        }
    }

    @Test
    void shouldCapAnAbsurdRetryAfter() {
        RetryPolicy.Retry r = (RetryPolicy.Retry) policy.decide(status(429, Duration.ofDays(3)), 1, NOW);
        assertThat(r.delay()).isLessThanOrEqualTo(Duration.ofMinutes(11));
    }
}
