package llmq.modelsim.faults;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The share of calls that fail and how, so that clients' retry, back-off and timeout paths can
 * be exercised on demand. The three rates are disjoint shares of all calls and add up to at
 * most 1.
 *
 * @param rateLimitRate    share answered 429 with {@code Retry-After}
 * @param retryAfter       the {@code Retry-After} sent with 429 and 503 (whole seconds, rounded up)
 * @param serverErrorRate  share answered with one of {@code serverErrorCodes}
 * @param serverErrorCodes 5xx statuses to pick from, uniformly
 * @param timeoutRate      share never answered: the connection is closed after {@code hang}
 * @param hang             how long an unanswered call is held open before its connection is closed
 */
public record FaultSettings(double rateLimitRate, Duration retryAfter, double serverErrorRate,
        List<Integer> serverErrorCodes, double timeoutRate, Duration hang) {

    /** No failures, with the default {@code Retry-After} (1 s), codes (500, 503) and hang (60 s). */
    public static final FaultSettings NONE =
            new FaultSettings(0.0, Duration.ofSeconds(1), 0.0, List.of(500, 503), 0.0, Duration.ofSeconds(60));

    /** @throws IllegalArgumentException naming the field at fault */
    public FaultSettings {
        checkRate("rateLimitRate", rateLimitRate);
        checkRate("serverErrorRate", serverErrorRate);
        checkRate("timeoutRate", timeoutRate);
        if (rateLimitRate + serverErrorRate + timeoutRate > 1.0 + 1e-9) {
            throw new IllegalArgumentException("rateLimitRate + serverErrorRate + timeoutRate must be at most 1, is "
                    + (rateLimitRate + serverErrorRate + timeoutRate));
        }
        Objects.requireNonNull(retryAfter, "retryAfter");
        Objects.requireNonNull(hang, "hang");
        if (retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must not be negative: " + retryAfter);
        }
        if (hang.isNegative() || hang.isZero()) {
            throw new IllegalArgumentException("hang must be positive: " + hang);
        }
        serverErrorCodes = List.copyOf(serverErrorCodes);
        if (serverErrorCodes.isEmpty()) {
            throw new IllegalArgumentException("serverErrorCodes must not be empty");
        }
        for (int code : serverErrorCodes) {
            if (code < 500 || code > 599) {
                throw new IllegalArgumentException("serverErrorCodes must be 5xx statuses: " + code);
            }
        }
    }

    private static void checkRate(String name, double rate) {
        if (!(rate >= 0.0 && rate <= 1.0)) {
            throw new IllegalArgumentException(name + " must be between 0 and 1: " + rate);
        }
    }

    public FaultSettings withRateLimitRate(double rate) {
        return new FaultSettings(rate, retryAfter, serverErrorRate, serverErrorCodes, timeoutRate, hang);
    }

    public FaultSettings withRetryAfter(Duration value) {
        return new FaultSettings(rateLimitRate, value, serverErrorRate, serverErrorCodes, timeoutRate, hang);
    }

    public FaultSettings withServerErrorRate(double rate) {
        return new FaultSettings(rateLimitRate, retryAfter, rate, serverErrorCodes, timeoutRate, hang);
    }

    public FaultSettings withServerErrorCodes(List<Integer> codes) {
        return new FaultSettings(rateLimitRate, retryAfter, serverErrorRate, codes, timeoutRate, hang);
    }

    public FaultSettings withTimeoutRate(double rate) {
        return new FaultSettings(rateLimitRate, retryAfter, serverErrorRate, serverErrorCodes, rate, hang);
    }

    public FaultSettings withHang(Duration value) {
        return new FaultSettings(rateLimitRate, retryAfter, serverErrorRate, serverErrorCodes, timeoutRate, value);
    }

    /** The same timings and codes with every rate at 0. */
    public FaultSettings withoutFailures() {
        return new FaultSettings(0.0, retryAfter, 0.0, serverErrorCodes, 0.0, hang);
    }
}
