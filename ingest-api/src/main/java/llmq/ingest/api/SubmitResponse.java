package llmq.ingest.api;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;

/** The body of a 202 from {@code POST /v1/requests}. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SubmitResponse(String id, String object, String status, String priority, Instant createdAt,
                             String statusUrl) {
}
