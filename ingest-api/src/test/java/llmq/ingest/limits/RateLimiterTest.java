package llmq.ingest.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.Priority;
import llmq.ingest.submit.ApiException;
import llmq.ingest.tenants.Tenant;
import org.junit.jupiter.api.Test;

/** The token buckets with a clock advanced by hand: exact counts, no sleeping. */
class RateLimiterTest {

    private final AtomicLong nanos = new AtomicLong();
    private final TimeMeter clock = new TimeMeter() {
        @Override
        public long currentTimeNanos() {
            return nanos.get();
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }
    };
    private final RateLimiter limiter = new RateLimiter(Duration.ofSeconds(10), clock);

    private static Tenant tenant(Integer rpm, Integer tpm) {
        return new Tenant("acme", "Acme", "standard", Priority.NORMAL, Priority.HIGH, 1.0, rpm, tpm);
    }

    private int admitted(Tenant t, int attempts, long tokens) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            try {
                limiter.acquire(t, tokens);
                n++;
            } catch (ApiException e) {
                assertThat(e.status()).isEqualTo(429);
            }
        }
        return n;
    }

    @Test
    void shouldAdmitTheBurstThenExactlyTheRate() {
        Tenant t = tenant(600, null);
        assertThat(limiter.capacity(600)).isEqualTo(100);
        assertThat(admitted(t, 1000, 1)).isEqualTo(100);
        nanos.addAndGet(Duration.ofMillis(2_550).toNanos());
        assertThat(admitted(t, 1000, 1)).as("10 per second for 2.55 s").isEqualTo(25);
        nanos.addAndGet(Duration.ofMinutes(5).toNanos());
        assertThat(admitted(t, 1000, 1)).as("never more than the burst").isEqualTo(100);
    }

    @Test
    void shouldRefuseWith429RetryAfterAndRateLimitHeaders() {
        Tenant t = tenant(60, null);
        admitted(t, 10, 1);
        assertThatThrownBy(() -> limiter.acquire(t, 1)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.retryAfterSeconds()).isEqualTo(1);
            assertThat(e.headers()).containsEntry("X-RateLimit-Limit", "60").containsEntry("X-RateLimit-Remaining", "0")
                    .containsKey("X-RateLimit-Reset");
        });
    }

    @Test
    void shouldLimitTokensAndGiveBackWhatARefusedRequestTook() {
        Tenant t = tenant(600, 6000);
        // token burst: 1000; each request 400 tokens
        limiter.acquire(t, 400);
        RateLimiter.Grant second = limiter.acquire(t, 400);
        assertThatThrownBy(() -> limiter.acquire(t, 400)).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.getMessage()).contains("tokens per minute"));
        limiter.release(second);
        assertThat(limiter.acquire(t, 400).headers()).containsEntry("x-ratelimit-remaining-tokens", "200");
        assertThatThrownBy(() -> limiter.acquire(t, 5000)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.field()).isEqualTo("max_tokens");
        });
    }

    @Test
    void shouldNotCountTenantsWithoutLimitsAndStartAfreshWhenLimitsChange() {
        assertThat(admitted(tenant(null, null), 10_000, 100)).isEqualTo(10_000);
        admitted(tenant(60, null), 100, 1);
        assertThat(admitted(tenant(120, null), 100, 1)).as("new limits, new bucket").isEqualTo(20);
    }
}
