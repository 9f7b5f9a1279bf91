package llmq.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import llmq.ingest.submit.FieldError;

/**
 * Every error of the native API: {@code {"error": {"type", "message", "field", "line", "details"}}}.
 * {@code field} names the first field at fault; {@code line} the JSONL line of a batch (from 1);
 * {@code details} lists every field at fault.
 */
public record ErrorBody(Error error) {

    /** The error itself. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String type, String message, String field, Integer line, List<FieldError> details) {
    }

    public static ErrorBody of(String type, String message, String field, List<FieldError> details) {
        return of(type, message, field, null, details);
    }

    public static ErrorBody of(String type, String message, String field, Integer line, List<FieldError> details) {
        return new ErrorBody(new Error(type, message, field, line, details == null || details.isEmpty() ? null : details));
    }
}
