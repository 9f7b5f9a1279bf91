package llmq.ingest.limits;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import llmq.ingest.submit.ApiException;
import llmq.ingest.tenants.Tenant;

/**
 * Per-tenant request and token rate limits (the tenant's {@code rpm_limit} and {@code tpm_limit}),
 * each a bucket4j token bucket refilled greedily at the tenant's rate whose capacity — the burst —
 * is {@code burst} worth of that rate (RPM 600 with a 10 s burst: 100 requests at once, then 10
 * per second). Over any span {@code t} from a full bucket a tenant is admitted at most
 * {@code capacity + floor(rate × t)} requests: never more.
 *
 * <p>Limits are kept per ingest instance: with {@code n} instances behind a load balancer a tenant
 * gets up to {@code n} times its limit. A tenant without a limit is not counted. When a tenant's
 * limits change (through {@code llm.config.tenants}) its buckets start afresh.
 */
public final class RateLimiter {

    /** What one admitted request took; give it back with {@link #release} if the request is not accepted after all. */
    public record Grant(Bucket requests, Bucket tokens, long tokenCount, Map<String, String> headers) {
        /** For tenants without limits. */
        public static final Grant NONE = new Grant(null, null, 0, Map.of());
    }

    private record Buckets(Integer rpm, Integer tpm, Bucket requests, Bucket tokens, long requestCapacity,
                           long tokenCapacity) {
    }

    private final Duration burst;
    private final TimeMeter clock;
    private final Map<String, Buckets> buckets = new ConcurrentHashMap<>();

    public RateLimiter(Duration burst) {
        this(burst, TimeMeter.SYSTEM_NANOTIME);
    }

    /** With a clock of one's own (tests). */
    public RateLimiter(Duration burst, TimeMeter clock) {
        this.burst = burst;
        this.clock = clock;
    }

    /** The burst (bucket capacity) of a per-minute rate. */
    public long capacity(int perMinute) {
        return Math.max(1, (long) Math.ceil(perMinute * (burst.toMillis() / 60_000.0)));
    }

    /**
     * Takes one request and {@code tokens} estimated tokens from the tenant's buckets, or throws a 429
     * with {@code Retry-After} and the rate-limit headers (nothing taken). A request larger than the
     * token bucket can ever hold is a 400: waiting would not help.
     */
    public Grant acquire(Tenant tenant, long tokens) {
        if (tenant.rpmLimit() == null && tenant.tpmLimit() == null) {
            return Grant.NONE;
        }
        Buckets b = buckets(tenant);
        if (b.tokens() != null && tokens > b.tokenCapacity()) {
            throw new ApiException(400, "request_too_large", "max_tokens", "this request's estimated " + tokens
                    + " tokens (prompt + max_tokens) exceed this tenant's token burst of " + b.tokenCapacity()
                    + " (" + b.tpm() + " tokens per minute); lower max_tokens or split the prompt");
        }
        ConsumptionProbe req = null;
        if (b.requests() != null) {
            req = b.requests().tryConsumeAndReturnRemaining(1);
            if (!req.isConsumed()) {
                throw limited(b, req, null, "requests per minute (" + b.rpm() + ")");
            }
        }
        ConsumptionProbe tok = null;
        if (b.tokens() != null) {
            tok = b.tokens().tryConsumeAndReturnRemaining(tokens);
            if (!tok.isConsumed()) {
                if (b.requests() != null) {
                    b.requests().addTokens(1);
                }
                throw limited(b, req, tok, "tokens per minute (" + b.tpm() + ")");
            }
        }
        return new Grant(b.requests(), b.tokens(), tokens, headers(b, req, tok));
    }

    /** Gives back what {@code grant} took (the request was not accepted). */
    public void release(Grant grant) {
        if (grant.requests() != null) {
            grant.requests().addTokens(1);
        }
        if (grant.tokens() != null && grant.tokenCount() > 0) {
            grant.tokens().addTokens(grant.tokenCount());
        }
    }

    private Buckets buckets(Tenant t) {
        Buckets b = buckets.get(t.id());
        if (b == null || !Objects.equals(b.rpm(), t.rpmLimit()) || !Objects.equals(b.tpm(), t.tpmLimit())) {
            Buckets fresh = new Buckets(t.rpmLimit(), t.tpmLimit(), bucket(t.rpmLimit()), bucket(t.tpmLimit()),
                    t.rpmLimit() == null ? 0 : capacity(t.rpmLimit()), t.tpmLimit() == null ? 0 : capacity(t.tpmLimit()));
            Buckets current = b;
            b = buckets.compute(t.id(), (k, v) -> v == current || v == null ? fresh : v);
        }
        return b;
    }

    private Bucket bucket(Integer perMinute) {
        if (perMinute == null) {
            return null;
        }
        long capacity = capacity(perMinute);
        return Bucket.builder()
                .addLimit(l -> l.capacity(capacity).refillGreedy(perMinute, Duration.ofMinutes(1)))
                .withCustomTimePrecision(clock)
                .build();
    }

    private static ApiException limited(Buckets b, ConsumptionProbe req, ConsumptionProbe tok, String which) {
        ConsumptionProbe refused = tok != null ? tok : req;
        int retryAfter = (int) Math.max(1, (long) Math.ceil(refused.getNanosToWaitForRefill() / 1e9));
        ApiException e = new ApiException(429, "rate_limited", null, "rate limit reached: " + which
                + "; retry after " + retryAfter + "s", retryAfter);
        headers(b, req, tok).forEach(e::header);
        return e;
    }

    private static Map<String, String> headers(Buckets b, ConsumptionProbe req, ConsumptionProbe tok) {
        Map<String, String> h = new LinkedHashMap<>();
        if (req != null) {
            h.put("X-RateLimit-Limit", Integer.toString(b.rpm()));
            h.put("X-RateLimit-Remaining", Long.toString(req.getRemainingTokens()));
            h.put("X-RateLimit-Reset", Long.toString(seconds(req.getNanosToWaitForReset())));
            h.put("x-ratelimit-limit-requests", Integer.toString(b.rpm()));
            h.put("x-ratelimit-remaining-requests", Long.toString(req.getRemainingTokens()));
            h.put("x-ratelimit-reset-requests", seconds(req.getNanosToWaitForReset()) + "s");
        }
        if (tok != null) {
            h.put("x-ratelimit-limit-tokens", Integer.toString(b.tpm()));
            h.put("x-ratelimit-remaining-tokens", Long.toString(tok.getRemainingTokens()));
            h.put("x-ratelimit-reset-tokens", seconds(tok.getNanosToWaitForReset()) + "s");
        }
        return h;
    }

    private static long seconds(long nanos) {
        return (long) Math.ceil(nanos / 1e9);
    }
}
