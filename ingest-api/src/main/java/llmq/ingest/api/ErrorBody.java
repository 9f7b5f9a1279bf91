package llmq.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import llmq.ingest.submit.FieldError;

/**
 * Every error of the native API: {@code {"error": {"type", "message", "field", "details"}}}.
 * {@code field} names the first field at fault; {@code details} lists all of them.
 */
public record ErrorBody(Error error) {

    /** The error itself. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String type, String message, String field, List<FieldError> details) {
    }

    public static ErrorBody of(String type, String message, String field, List<FieldError> details) {
        return new ErrorBody(new Error(type, message, field, details == null || details.isEmpty() ? null : details));
    }
}
