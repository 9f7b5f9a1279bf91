package llmq.ingest.submit;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import llmq.avro.Priority;
import llmq.ingest.budgets.BudgetGuard;
import llmq.ingest.limits.RateLimiter;
import llmq.ingest.limits.TokenEstimate;
import llmq.ingest.models.KnownModels;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.tenants.Caller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission of one request, whichever API it came through, in this order: a known model (400), a
 * level the tenant may use (403), an idempotency key seen before (the original id, not a new
 * request), the monthly budget (402), the tenant's rate limits (429), then the write to Kafka
 * (202, or 503 — and the rate-limit tokens are given back). Nothing here touches a database or the
 * schema registry: tenants, models, budgets and limits are in memory, and idempotency keys are in
 * the status view's store (this instance's, or the owning instance's).
 */
public final class Intake {

    private static final Logger LOG = LoggerFactory.getLogger(Intake.class);

    /** Looks up the request id accepted under a dedup key ({@code tenant:idempotency key}). */
    @FunctionalInterface
    public interface IdempotencyLookup {
        Optional<String> find(Caller caller, String dedupKey);

        IdempotencyLookup NONE = (caller, key) -> Optional.empty();
    }

    /**
     * The outcome of a submission: a new request ({@code replayed} false) or the one a previous
     * submission with the same idempotency key created.
     */
    public record Outcome(String id, Priority priority, Instant at, boolean replayed, Map<String, String> headers) {
    }

    private final Submitter submitter;
    private final KnownModels models;
    private final BudgetGuard budgets;
    private final RateLimiter limiter;
    private final RecentlyAccepted recent;
    private final IdempotencyLookup idempotency;
    private final boolean callbacksEnabled;
    private final int defaultOutputTokens;

    public Intake(Submitter submitter, KnownModels models, BudgetGuard budgets, RateLimiter limiter,
                  RecentlyAccepted recent, IdempotencyLookup idempotency, boolean callbacksEnabled,
                  int defaultOutputTokens) {
        this.submitter = submitter;
        this.models = models;
        this.budgets = budgets;
        this.limiter = limiter;
        this.recent = recent;
        this.idempotency = idempotency;
        this.callbacksEnabled = callbacksEnabled;
        this.defaultOutputTokens = defaultOutputTokens;
    }

    /** Checks that do not depend on the caller's history: model, callback, level. */
    public Priority validate(Caller caller, SubmitRequest req) {
        models.check(req.model(), "model");
        if (req.callbackUrl() != null && !callbacksEnabled) {
            throw new InvalidRequestException("callback_url",
                    "callbacks are not enabled on this server (ingest.callbacks.secret is not set)");
        }
        return Submitter.level(caller.tenant(), req.priority());
    }

    /** The id already accepted under the request's idempotency key, if any. */
    public Optional<String> replayOf(Caller caller, SubmitRequest req) {
        if (req.idempotencyKey() == null) {
            return Optional.empty();
        }
        String key = Submitter.dedupKey(caller.tenantId(), req.idempotencyKey());
        Optional<String> local = recent.idOf(key, Instant.now());
        if (local.isPresent()) {
            return local;
        }
        try {
            return idempotency.find(caller, key);
        } catch (RuntimeException e) {
            // the store is rebalancing or its owner unreachable: submit anyway; the router's dedup
            // still runs the model once, and the new id reports the original's status
            LOG.debug("idempotency lookup of {} failed: {}", key, e.toString());
            return Optional.empty();
        }
    }

    /** Admits {@code req} under {@code id} (or finds its original); see the class comment for the order. */
    public CompletableFuture<Outcome> submit(Caller caller, SubmitRequest req, String source, String id) {
        Priority level = validate(caller, req);
        Optional<String> original = replayOf(caller, req);
        if (original.isPresent()) {
            return CompletableFuture.completedFuture(new Outcome(original.get(), level, Instant.now(), true, Map.of()));
        }
        budgets.admit(caller.tenantId());
        RateLimiter.Grant grant = limiter.acquire(caller.tenant(), TokenEstimate.of(req, defaultOutputTokens));
        CompletableFuture<Submitter.Accepted> written;
        try {
            written = submitter.write(id, caller.tenant(), level, req, source);
        } catch (RuntimeException e) {
            limiter.release(grant);
            throw e;
        }
        return written.handle((a, error) -> {
            if (error != null) {
                limiter.release(grant);
                throw error instanceof RuntimeException re ? re : new IllegalStateException(error);
            }
            return new Outcome(a.id(), a.priority(), a.at(), false, grant.headers());
        });
    }
}
