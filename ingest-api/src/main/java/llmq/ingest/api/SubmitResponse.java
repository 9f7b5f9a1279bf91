package llmq.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/**
 * The body of {@code POST /v1/requests}: a 202 for a new request, or a 200 with
 * {@code idempotent_replay: true} naming the request an earlier submission with the same
 * idempotency key created.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SubmitResponse(String id, String object, String status, String priority, Instant createdAt,
                             String statusUrl, Boolean idempotentReplay) {

    public SubmitResponse(String id, String object, String status, String priority, Instant createdAt, String statusUrl) {
        this(id, object, status, priority, createdAt, statusUrl, null);
    }
}
