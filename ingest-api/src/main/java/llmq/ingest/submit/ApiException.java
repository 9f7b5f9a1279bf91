package llmq.ingest.submit;

/**
 * A request the API answers with an error status: the HTTP status, a machine-readable type,
 * the field at fault (if any), and a message for humans. {@code retryAfterSeconds} is sent as
 * {@code Retry-After} when positive.
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String field;
    private final int retryAfterSeconds;

    public ApiException(int status, String type, String field, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ApiException(int status, String type, String field, String message) {
        this(status, type, field, message, 0);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String field() {
        return field;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
