package llmq.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import llmq.avro.LlmResult;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.ingest.internal.avro.StatusPromotion;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusFold;
import llmq.topics.catalog.TopicCatalog;

/**
 * The body of {@code GET /v1/requests/{id}} (and of a completion callback): where the request is
 * in its life, its level and promotions, its position and estimated wait while it waits in the
 * router, and its result once it has one. A deduplicated request shows its original's status and
 * result, with {@code original_id} naming the original.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestView(String id, String object, String status, String priority, String originalPriority,
                          List<PromotionView> promotions, String originalId, Integer attempts, Instant createdAt,
                          Instant releasedAt, Instant startedAt, Instant completedAt, String model, String batchId,
                          String customId, Long queuePosition, Long estimatedWaitMs, Instant eligibleAt,
                          String cancelRejected, ResultView result, ErrorView error) {

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

    /** One aging step. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PromotionView(String from, String to, Instant at) {
    }

    /** A request only this instance knows about yet (accepted moments ago). */
    public static RequestView accepted(String id, RecentlyAccepted.Entry e) {
        String level = TopicCatalog.level(e.priority());
        return new RequestView(id, "llm.request", StatusFold.QUEUED, level, level, List.of(), null, 0, e.acceptedAt(),
                null, null, null, e.model(), null, null, null, null, null, null, null, null);
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
        String priority = s != null && s.getPriority() != null ? s.getPriority() : r != null && r.getPriority() != null
                ? TopicCatalog.level(r.getPriority()) : null;
        List<PromotionView> promotions = new ArrayList<>();
        if (s != null) {
            for (StatusPromotion p : s.getPromotions()) {
                promotions.add(new PromotionView(p.getFrom(), p.getTo(), p.getAt()));
            }
        }
        String cancelRejected = s != null && s.getCancelRejectedReason() != null && !StatusFold.isFinal(state)
                ? s.getCancelRejectedReason() : null;
        return new RequestView(id, "llm.request", state, priority, s != null ? s.getOriginalPriority() : null,
                promotions, originalId, attempts, created, s != null ? s.getReleasedAt() : null, started, completed,
                r != null ? r.getModel() : null, s != null ? s.getBatchId() : null, s != null ? s.getCustomId() : null,
                null, null, null, cancelRejected, result, error);
    }

    /** A copy naming the batch line. */
    public RequestView withBatch(String batch, String custom) {
        return new RequestView(id, object, status, priority, originalPriority, promotions, originalId, attempts, createdAt,
                releasedAt, startedAt, completedAt, model, batch, custom, queuePosition, estimatedWaitMs, eligibleAt,
                cancelRejected, result, error);
    }

    /** A copy with where the router holds the request. */
    public RequestView withQueue(Long position, Long waitMs, Instant eligible) {
        return new RequestView(id, object, status, priority, originalPriority, promotions, originalId, attempts, createdAt,
                releasedAt, startedAt, completedAt, model, batchId, customId, position, waitMs, eligible,
                cancelRejected, result, error);
    }
}
