package llmq.modelsim.faults;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live fault settings of one simulator and the seeded draw that decides each call's fate,
 * so that a run with the same seed and the same order of calls fails the same calls. Tests and
 * the {@code /admin/faults} endpoint change the settings while the simulator runs.
 */
public final class Faults {

    private static final Logger LOG = LoggerFactory.getLogger(Faults.class);

    /** How a call fails, if at all. */
    public enum Kind { NONE, RATE_LIMIT, SERVER_ERROR, TIMEOUT }

    /**
     * The fate of one call.
     *
     * @param status     the HTTP status to answer (0 for {@code NONE} and {@code TIMEOUT})
     * @param retryAfter the {@code Retry-After} to send with 429/503
     * @param hang       how long a {@code TIMEOUT} call is held open
     */
    public record Injection(Kind kind, int status, Duration retryAfter, Duration hang) {
    }

    private final Random random;
    private volatile FaultSettings settings;

    public Faults(FaultSettings initial, long seed) {
        this.settings = Objects.requireNonNull(initial, "initial");
        this.random = new Random(seed);
    }

    /** The settings in force. */
    public FaultSettings current() {
        return settings;
    }

    /** Replaces the settings; calls already decided keep their fate. */
    public synchronized void set(FaultSettings next) {
        settings = Objects.requireNonNull(next, "next");
        LOG.info("model-sim faults now {}", next);
    }

    /** Applies {@code change} atomically to the current settings and returns the result. */
    public synchronized FaultSettings update(UnaryOperator<FaultSettings> change) {
        set(change.apply(settings));
        return settings;
    }

    /** Turns every failure off, keeping timings and codes. */
    public void clear() {
        update(FaultSettings::withoutFailures);
    }

    /**
     * Draws the fate of the next call. Exactly one number is drawn per call (two for a server
     * error with several codes), so the sequence of fates depends only on the seed, the
     * settings and the order of calls.
     */
    public Injection next() {
        FaultSettings s = settings;
        double u;
        int pick = 0;
        synchronized (random) {
            u = random.nextDouble();
            boolean serverError = u >= s.rateLimitRate() && u < s.rateLimitRate() + s.serverErrorRate();
            if (serverError && s.serverErrorCodes().size() > 1) {
                pick = random.nextInt(s.serverErrorCodes().size());
            }
        }
        if (u < s.rateLimitRate()) {
            return new Injection(Kind.RATE_LIMIT, 429, s.retryAfter(), s.hang());
        }
        if (u < s.rateLimitRate() + s.serverErrorRate()) {
            return new Injection(Kind.SERVER_ERROR, s.serverErrorCodes().get(pick), s.retryAfter(), s.hang());
        }
        if (u < s.rateLimitRate() + s.serverErrorRate() + s.timeoutRate()) {
            return new Injection(Kind.TIMEOUT, 0, s.retryAfter(), s.hang());
        }
        return new Injection(Kind.NONE, 0, s.retryAfter(), s.hang());
    }
}
