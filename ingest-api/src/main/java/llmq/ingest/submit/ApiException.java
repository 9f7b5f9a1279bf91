package llmq.ingest.submit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the API answers with an error status: the HTTP status, a machine-readable type,
 * the field at fault (if any), and a message for humans. {@code retryAfterSeconds} is sent as
 * {@code Retry-After} when positive; {@link #headers()} are added to the response (rate-limit
 * headers of a 429, for instance).
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String field;
    private final int retryAfterSeconds;
    private final transient Map<String, String> headers = new LinkedHashMap<>();

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

    /** Adds a response header; returns this exception. */
    public ApiException header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /** Extra response headers, in the order added. */
    public Map<String, String> headers() {
        return Collections.unmodifiableMap(headers);
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

    /** 404 for ids the caller may not see: another tenant's request looks exactly like a missing one. */
    public static ApiException notFound(String what, String id) {
        return new ApiException(404, "not_found", "id", "no " + what + " " + id);
    }
}
