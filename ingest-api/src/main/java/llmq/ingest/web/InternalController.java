package llmq.ingest.web;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Map;
import llmq.ingest.status.StatusService;
import llmq.ingest.submit.ApiException;
import llmq.ingest.tenants.Caller;

/**
 * The instance-to-instance API: queries another ingest instance forwards here because this one owns
 * the partition. The caller's own {@code Authorization} header comes along and is checked here, and
 * only that tenant's data is returned; answers come from this instance's stores only (never forwarded
 * again). Not part of the public API.
 */
@Controller("/internal/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
final class InternalController {

    private final StatusService status;
    private final WebSupport web;

    InternalController(StatusService status, WebSupport web) {
        this.status = status;
        this.web = web;
    }

    @Get(uri = "/requests/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> request(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                 @PathVariable String id) {
        Caller caller = web.caller(request, authorization);
        return Responses.json(200, status.encode(status.findLocal(caller.tenantId(), id)
                .orElseThrow(() -> ApiException.notFound("request", id))));
    }

    @Get(uri = "/idempotency/{key}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> idempotency(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                     @PathVariable String key) {
        Caller caller = web.caller(request, authorization);
        if (!key.startsWith(caller.tenantId() + ":")) {
            throw ApiException.notFound("idempotency key", key);
        }
        return Responses.json(200, Map.of("request_id", status.idempotencyLocal(key)
                .orElseThrow(() -> ApiException.notFound("idempotency key", key)).getRequestId()));
    }

    @Get(uri = "/batches/{id}/members", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> members(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                 @PathVariable String id) {
        Caller caller = web.caller(request, authorization);
        if (status.batch(id).filter(b -> b.getTenantId().equals(caller.tenantId())).isEmpty()) {
            throw ApiException.notFound("batch", id);
        }
        return Responses.json(200, status.encode(status.membersLocal(id)));
    }

    @Get(uri = "/queues", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> queues(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization) {
        web.caller(request, authorization);
        return Responses.json(200, status.stats().sample());
    }
}
