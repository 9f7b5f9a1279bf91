package llmq.ingest.web;

import com.fasterxml.jackson.databind.JsonNode;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import llmq.ingest.api.RequestView;
import llmq.ingest.api.SubmitResponse;
import llmq.ingest.router.RouterClient;
import llmq.ingest.status.Cancellations;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusFold;
import llmq.ingest.status.StatusService;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.Intake;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.SubmitRequest;
import llmq.ingest.tenants.Authenticator;
import llmq.ingest.tenants.Caller;
import llmq.topics.catalog.TopicCatalog;

/**
 * The native API: {@code POST /v1/requests} (202 once Kafka has the request; 200 with the original id
 * for a repeated idempotency key), {@code GET /v1/requests/{id}} and {@code DELETE /v1/requests/{id}}.
 * Translates HTTP to the plain classes that do the work.
 */
@Controller("/v1/requests")
@ExecuteOn(TaskExecutors.BLOCKING)
final class RequestsController {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final Authenticator auth;
    private final SubmitParser parser;
    private final Intake intake;
    private final StatusService status;
    private final RecentlyAccepted recent;
    private final RouterClient router;
    private final Cancellations cancellations;
    private final WebSupport web;

    RequestsController(Authenticator auth, SubmitParser parser, Intake intake, StatusService status,
                       RecentlyAccepted recent, RouterClient router, Cancellations cancellations, WebSupport web) {
        this.auth = auth;
        this.parser = parser;
        this.intake = intake;
        this.status = status;
        this.recent = recent;
        this.router = router;
        this.cancellations = cancellations;
        this.web = web;
    }

    @Post(consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    CompletableFuture<HttpResponse<String>> submit(HttpRequest<?> request,
                                                  @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                                  @Nullable @Header(IDEMPOTENCY_KEY) String idempotencyKey,
                                                  @Nullable @Body byte[] body) {
        Caller caller = web.caller(request, authorization);
        JsonNode json = web.json(body, web.maxBody());
        SubmitRequest req = withHeaderKey(parser.parse(json), idempotencyKey);
        web.prompt(request, req);
        String id = UUID.randomUUID().toString();
        return intake.submit(caller, req, "http", id).thenApply(o -> {
            request.setAttribute(AccessLog.REQUEST_ID, o.id());
            String url = web.baseUrl(request) + "/v1/requests/" + o.id();
            if (o.replayed()) {
                return Responses.json(200, replay(caller, o.id(), url)).header(HttpHeaders.LOCATION, url)
                        .header("Idempotent-Replayed", "true");
            }
            return Responses.headers(Responses.json(202, new SubmitResponse(o.id(), "llm.request", StatusFold.QUEUED,
                    TopicCatalog.level(o.priority()), o.at(), url)).header(HttpHeaders.LOCATION, url), o.headers());
        });
    }

    /** The answer to a repeated idempotency key: the original request as it is now. */
    private SubmitResponse replay(Caller caller, String id, String url) {
        try {
            RequestView v = view(caller, id, false);
            return new SubmitResponse(id, "llm.request", v.status(), v.priority(), v.createdAt(), url, true);
        } catch (ApiException | StatusService.Unavailable e) {
            return new SubmitResponse(id, "llm.request", StatusFold.QUEUED, null, null, url, true);
        }
    }

    /** The {@code Idempotency-Key} header, which must agree with a key in the body. */
    static SubmitRequest withHeaderKey(SubmitRequest req, String header) {
        if (header == null) {
            return req;
        }
        String key = header.trim();
        if (key.isEmpty() || key.length() > 255) {
            throw new ApiException(400, "invalid_request", IDEMPOTENCY_KEY, "must be 1 to 255 characters");
        }
        if (req.idempotencyKey() != null && !req.idempotencyKey().equals(key)) {
            throw new ApiException(400, "invalid_request", IDEMPOTENCY_KEY,
                    "differs from the body's idempotency_key; send one of them");
        }
        return req.withIdempotencyKey(key);
    }

    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> get(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                             @PathVariable String id) {
        Caller caller = web.caller(request, authorization);
        request.setAttribute(AccessLog.REQUEST_ID, id);
        return Responses.json(200, view(caller, id, true));
    }

    @Delete(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> cancel(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                @PathVariable String id) {
        Caller caller = web.caller(request, authorization);
        request.setAttribute(AccessLog.REQUEST_ID, id);
        Cancellations.Outcome o = cancellations.cancel(caller, id);
        return switch (o.result()) {
            case CANCELLED -> Responses.json(200, Map.of("id", id, "object", "llm.request", "status", StatusFold.CANCELLED));
            case PENDING -> Responses.json(202, Map.of("id", id, "object", "llm.request", "status", "cancelling",
                    "status_url", web.baseUrl(request) + "/v1/requests/" + id));
            case REJECTED -> Responses.error(request, new ApiException(409, "cannot_cancel", "id",
                    "request " + id + " cannot be cancelled: " + o.reason()));
        };
    }

    /** The view of {@code id} as {@code caller} may see it: another tenant's request is "not found". */
    RequestView view(Caller caller, String id, boolean withPosition) {
        Optional<StatusService.Snapshot> found;
        try {
            found = status.find(caller, id);
        } catch (StatusService.Unavailable e) {
            // the view is (re)starting: a request accepted here moments ago is still known
            Optional<RecentlyAccepted.Entry> fresh = recent.get(id, Instant.now()).filter(x -> x.tenantId().equals(caller.tenantId()));
            if (fresh.isPresent()) {
                return RequestView.accepted(id, fresh.get());
            }
            throw e;
        }
        if (found.isEmpty()) {
            return recent.get(id, Instant.now()).filter(e -> e.tenantId().equals(caller.tenantId()))
                    .map(e -> RequestView.accepted(id, e))
                    .map(v -> withPosition ? position(id, v) : v)
                    .orElseThrow(() -> ApiException.notFound("request", id));
        }
        StatusService.Snapshot s = found.get();
        if (s.status() != null && StatusFold.DEDUPLICATED.equals(s.status().getState())
                && s.status().getRelatedRequestId() != null && s.result() == null) {
            String original = s.status().getRelatedRequestId();
            Optional<StatusService.Snapshot> o = status.find(caller, original);
            if (o.isPresent()) {
                return RequestView.of(id, o.get().status(), o.get().result(), original);
            }
            return RequestView.of(id, s.status(), null, original);
        }
        RequestView v = RequestView.of(id, s.status(), s.result(), null);
        return withPosition ? position(id, v) : v;
    }

    /** Adds the router's queue position and wait estimate while the request waits there (omitted if it does not answer). */
    private RequestView position(String id, RequestView v) {
        if (!StatusFold.QUEUED.equals(v.status()) && !StatusFold.PARKED.equals(v.status())
                && !StatusFold.RETRYING.equals(v.status())) {
            return v;
        }
        return router.position(id).map(p -> v.withQueue(p.hasNonNull("position") ? p.get("position").asLong() : null,
                p.hasNonNull("estimated_wait_ms") ? p.get("estimated_wait_ms").asLong() : null,
                p.hasNonNull("eligible_at") ? parse(p.get("eligible_at").asText()) : null)).orElse(v);
    }

    private static Instant parse(String t) {
        try {
            return Instant.parse(t);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
