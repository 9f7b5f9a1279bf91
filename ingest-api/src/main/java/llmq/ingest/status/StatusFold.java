package llmq.ingest.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.ingest.internal.avro.StatusPromotion;
import llmq.topics.catalog.TopicCatalog;

/**
 * Folds one lifecycle event into a request's status. Events of one request come from several
 * producers (ingest, router, worker) and may arrive a little out of order, so the fold never
 * moves a request backwards: a final state is never left, an early event (ACCEPTED) arriving
 * late only fills in its timestamp, and {@code running} follows {@code retrying} only for a
 * newer attempt.
 */
public final class StatusFold {

    public static final String QUEUED = "queued";
    public static final String PARKED = "parked";
    public static final String RUNNING = "running";
    public static final String RETRYING = "retrying";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String EXPIRED = "expired";
    public static final String CANCELLED = "cancelled";
    public static final String DEDUPLICATED = "deduplicated";

    private static final Set<String> FINAL = Set.of(COMPLETED, FAILED, EXPIRED, CANCELLED, DEDUPLICATED);

    private StatusFold() {
    }

    /** True for states a request never leaves. */
    public static boolean isFinal(String state) {
        return FINAL.contains(state);
    }

    public static RequestStatus apply(RequestStatus current, RequestEvent e) {
        RequestStatus s = current != null ? RequestStatus.newBuilder(current).build()
                : RequestStatus.newBuilder().setRequestId(e.getRequestId()).setTenantId(e.getTenantId())
                .setState(QUEUED).setUpdatedAt(e.getAt()).build();
        boolean done = current != null && isFinal(current.getState());
        String level = e.getPriority() == null ? null : TopicCatalog.level(e.getPriority());
        Instant at = e.getAt();
        switch (e.getType()) {
            case ACCEPTED -> {
                s.setAcceptedAt(at);
                if (e.getIdempotencyKey() != null) {
                    s.setIdempotencyKey(e.getIdempotencyKey());
                }
                if (e.getCallbackUrl() != null) {
                    s.setCallbackUrl(e.getCallbackUrl());
                }
                if (e.getBatchId() != null) {
                    s.setBatchId(e.getBatchId());
                    s.setCustomId(e.getCustomId());
                }
                if (s.getOriginalPriority() == null) {
                    s.setOriginalPriority(level);
                }
                if (s.getPriority() == null) {
                    s.setPriority(level);
                }
            }
            case DEDUPLICATED -> {
                if (!done) {
                    s.setState(DEDUPLICATED);
                    s.setRelatedRequestId(e.getRelatedRequestId());
                    s.setFinishedAt(at);
                }
            }
            case PARKED -> {
                if (!done && QUEUED.equals(s.getState())) {
                    s.setState(PARKED);
                }
                s.setPriority(level != null ? level : s.getPriority());
            }
            case PROMOTED -> {
                if (!done && level != null) {
                    List<StatusPromotion> promotions = new ArrayList<>(s.getPromotions());
                    promotions.add(new StatusPromotion(s.getPriority(), level, at));
                    s.setPromotions(promotions);
                    s.setPriority(level);
                }
            }
            case CANCEL_REQUESTED -> s.setCancelRequestedAt(at);
            case CANCEL_REJECTED -> {
                s.setCancelRejectedAt(at);
                s.setCancelRejectedReason(e.getReason());
            }
            case RELEASED -> {
                s.setReleasedAt(at);
                if (!done && (QUEUED.equals(s.getState()) || PARKED.equals(s.getState()))) {
                    s.setState(QUEUED);
                    if (level != null) {
                        s.setPriority(level);
                    }
                }
                if (s.getOriginalPriority() == null) {
                    s.setOriginalPriority(level);
                }
            }
            case STARTED -> {
                int attempt = e.getAttempt() == null ? 1 : e.getAttempt();
                boolean newer = attempt > s.getAttempts();
                if (!done && (newer || !RETRYING.equals(s.getState()))) {
                    s.setState(RUNNING);
                    s.setStartedAt(at);
                }
                s.setAttempts(Math.max(s.getAttempts(), attempt));
                if (e.getEndpoint() != null) {
                    s.setEndpoint(e.getEndpoint());
                }
            }
            case RETRY_SCHEDULED -> {
                if (!done) {
                    s.setState(RETRYING);
                    s.setReason(e.getReason());
                }
            }
            case COMPLETED -> finish(s, done, COMPLETED, e, at);
            case FAILED, DEAD_LETTERED -> finish(s, done, FAILED, e, at);
            case CANCELLED -> finish(s, done, CANCELLED, e, at);
            case EXPIRED -> finish(s, done, EXPIRED, e, at);
            default -> {
                return current;
            }
        }
        s.setUpdatedAt(at);
        return s;
    }

    private static void finish(RequestStatus s, boolean done, String state, RequestEvent e, Instant at) {
        if (done) {
            return;
        }
        s.setState(state);
        s.setFinishedAt(at);
        if (e.getReason() != null) {
            s.setReason(e.getReason());
        }
        if (e.getEndpoint() != null) {
            s.setEndpoint(e.getEndpoint());
        }
    }

    /** The state name of a result status. */
    public static String of(llmq.avro.ResultStatus status) {
        return status.name().toLowerCase(Locale.ROOT);
    }
}
