package llmq.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import llmq.avro.LlmResult;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusFold;
import llmq.topics.catalog.TopicCatalog;

/**
 * The body of {@code GET /v1/requests/{id}}: where the request is in its life, and its result
 * once it has one. A deduplicated request shows its original's status and result, with
 * {@code original_id} naming the original.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestView(String id, String object, String status, String priority, String originalPriority,
                          String originalId, Integer attempts, Instant createdAt, Instant releasedAt,
                          Instant startedAt, Instant completedAt, String model, ResultView result, ErrorView error) {

    /** The model's answer. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ResultView(String output, String finishReason, String model, String endpoint, UsageView usage) {
    }

    /** Tokens the request consumed. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record UsageView(int promptTokens, int completionTokens, int totalTokens, boolean estimated) {
    }

    /** Why the request failed. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ErrorView(String type, String message) {
    }

    /** A request only this instance knows about yet (accepted moments ago). */
    public static RequestView accepted(String id, RecentlyAccepted.Entry e) {
        String level = TopicCatalog.level(e.priority());
        return new RequestView(id, "llm.request", StatusFold.QUEUED, level, level, null, 0, e.acceptedAt(), null, null,
                null, e.model(), null, null);
    }

    /** From the status store and the result (either may be null, not both). */
    public static RequestView of(String id, RequestStatus s, LlmResult r, String originalId) {
        String state = s != null ? s.getState() : StatusFold.QUEUED;
        if (r != null) {
            state = StatusFold.of(r.getStatus());
        }
        ResultView result = null;
        ErrorView error = null;
        if (r != null && r.getOutput() != null) {
            UsageView usage = r.getUsage() == null ? null : new UsageView(r.getUsage().getPromptTokens(),
                    r.getUsage().getCompletionTokens(),
                    r.getUsage().getPromptTokens() + r.getUsage().getCompletionTokens(), r.getUsage().getEstimated());
            result = new ResultView(r.getOutput(), r.getFinishReason(), r.getServedModel(), r.getEndpoint(), usage);
        }
        if (r != null && r.getError() != null) {
            error = new ErrorView(r.getError().getType(), r.getError().getMessage());
        } else if (s != null && StatusFold.FAILED.equals(state) && s.getReason() != null) {
            error = new ErrorView("failed", s.getReason());
        }
        Instant created = s != null ? s.getAcceptedAt() : null;
        if (created == null && r != null) {
            created = r.getSubmittedAt();
        }
        Instant completed = r != null ? r.getCompletedAt() : s != null ? s.getFinishedAt() : null;
        Instant started = r != null && r.getStartedAt() != null ? r.getStartedAt() : s != null ? s.getStartedAt() : null;
        Integer attempts = r != null ? Integer.valueOf(r.getAttempts()) : s != null ? Integer.valueOf(s.getAttempts()) : null;
        String priority = s != null ? s.getPriority() : r != null && r.getPriority() != null
                ? TopicCatalog.level(r.getPriority()) : null;
        return new RequestView(id, "llm.request", state, priority, s != null ? s.getOriginalPriority() : null,
                originalId, attempts, created, s != null ? s.getReleasedAt() : null, started, completed,
                r != null ? r.getModel() : null, result, error);
    }
}
