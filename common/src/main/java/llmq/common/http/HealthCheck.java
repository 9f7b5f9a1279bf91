package llmq.common.http;

/** One named check reported by {@code /health}; a service is healthy when all its checks are. */
@FunctionalInterface
public interface HealthCheck {

    /** The current state; must be cheap and never block for long. */
    Status check();

    /** Outcome of a check. */
    record Status(boolean up, String detail) {
        public static Status up(String detail) {
            return new Status(true, detail);
        }

        public static Status down(String detail) {
            return new Status(false, detail);
        }
    }
}
