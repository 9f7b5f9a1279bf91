package llmq.worker.model;

import java.time.Duration;
import java.util.Set;

/**
 * A model call failed. {@link #retryable()} tells whether trying again may succeed (429, 408,
 * 5xx, connect errors, timeouts); {@link #retryAfter()} carries the endpoint's
 * {@code Retry-After} when it sent one; {@link #endpointFault()} whether the failure says
 * something about the endpoint's health (it feeds the endpoint's circuit breaker).
 */
public final class ModelCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Error classes that count against an endpoint's health. */
    private static final Set<String> ENDPOINT_FAULTS =
            Set.of("server_error", "timeout", "connect_error", "io_error", "bad_response");

    private final String type;
    private final Integer httpStatus;
    private final boolean retryable;
    private final transient Duration retryAfter;
    private final String endpoint;

    public ModelCallException(String type, String message, Integer httpStatus, boolean retryable,
                              Duration retryAfter, String endpoint, Throwable cause) {
        super(message, cause);
        this.type = type;
        this.httpStatus = httpStatus;
        this.retryable = retryable;
        this.retryAfter = retryAfter;
        this.endpoint = endpoint;
    }

    /** Error class: rate_limited, server_error, timeout, connect_error, invalid_request, ... */
    public String type() {
        return type;
    }

    public Integer httpStatus() {
        return httpStatus;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The endpoint's {@code Retry-After}, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** The endpoint that failed, or null when no endpoint was called. */
    public String endpoint() {
        return endpoint;
    }

    /** True when the failure counts against the endpoint's health (5xx, timeouts, connection failures). */
    public boolean endpointFault() {
        return ENDPOINT_FAULTS.contains(type);
    }

    /** The same failure attributed to {@code endpointName} (when the client did not know it). */
    public ModelCallException at(String endpointName) {
        return new ModelCallException(type, getMessage(), httpStatus, retryable, retryAfter, endpointName, getCause());
    }

    /**
     * Classifies an HTTP status: 408, 429 and 5xx are worth retrying; every other 4xx is the
     * request's own fault and final.
     */
    public static ModelCallException forStatus(int status, String body, Duration retryAfter, String endpoint) {
        String type;
        boolean retry;
        if (status == 429) {
            type = "rate_limited";
            retry = true;
        } else if (status == 408) {
            type = "timeout";
            retry = true;
        } else if (status >= 500) {
            type = "server_error";
            retry = true;
        } else if (status == 401 || status == 403) {
            type = "authentication_error";
            retry = false;
        } else if (status == 404) {
            type = "not_found";
            retry = false;
        } else if (status == 409) {
            type = "conflict";
            retry = false;
        } else {
            type = "invalid_request";
            retry = false;
        }
        String snippet = body == null ? "" : body.length() > 500 ? body.substring(0, 500) : body;
        return new ModelCallException(type, "HTTP " + status + " from " + endpoint + ": " + snippet, status, retry,
                retryAfter, endpoint, null);
    }
}
