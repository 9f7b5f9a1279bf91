package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import llmq.common.json.Json;
import llmq.ingest.IngestConfig;
import llmq.ingest.api.RequestView;
import llmq.ingest.api.SubmitResponse;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.status.StatusFold;
import llmq.ingest.status.StatusView;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.Submitter;
import llmq.ingest.tenants.Authenticator;
import llmq.ingest.tenants.Tenant;
import llmq.topics.catalog.TopicCatalog;

/**
 * The native API: {@code POST /v1/requests} (202 once Kafka has the request) and
 * {@code GET /v1/requests/{id}}. Translates HTTP to the plain classes that do the work.
 */
@Controller("/v1/requests")
@ExecuteOn(TaskExecutors.BLOCKING)
final class RequestsController {

    private final Authenticator auth;
    private final SubmitParser parser;
    private final Submitter submitter;
    private final StatusView status;
    private final RecentlyAccepted recent;
    private final IngestConfig config;

    RequestsController(Authenticator auth, SubmitParser parser, Submitter submitter, StatusView status,
                       RecentlyAccepted recent, IngestConfig config) {
        this.auth = auth;
        this.parser = parser;
        this.submitter = submitter;
        this.status = status;
        this.recent = recent;
        this.config = config;
    }

    @Post(consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    CompletableFuture<HttpResponse<String>> submit(HttpRequest<?> request,
                                                  @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                                  @Nullable @Body byte[] body) {
        Tenant tenant = auth.authenticate(authorization);
        JsonNode json = parse(body);
        return submitter.submit(tenant, parser.parse(json), "http").thenApply(a -> {
            String url = baseUrl(request) + "/v1/requests/" + a.id();
            return Responses.json(202, new SubmitResponse(a.id(), "llm.request", StatusFold.QUEUED,
                    TopicCatalog.level(a.priority()), a.at(), url)).header(HttpHeaders.LOCATION, url);
        });
    }

    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> get(@Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization, @PathVariable String id) {
        Tenant tenant = auth.authenticate(authorization);
        return Responses.json(200, view(tenant, id));
    }

    /** The view of {@code id} as {@code tenant} may see it: another tenant's request is "not found". */
    RequestView view(Tenant tenant, String id) {
        Optional<StatusView.Snapshot> found = status.find(id).filter(s -> owner(s).equals(tenant.id()));
        if (found.isEmpty()) {
            return recent.get(id, Instant.now()).filter(e -> e.tenantId().equals(tenant.id()))
                    .map(e -> RequestView.accepted(id, e))
                    .orElseThrow(() -> new ApiException(404, "not_found", "id", "no request " + id));
        }
        StatusView.Snapshot s = found.get();
        if (s.status() != null && StatusFold.DEDUPLICATED.equals(s.status().getState())
                && s.status().getRelatedRequestId() != null && s.result() == null) {
            String original = s.status().getRelatedRequestId();
            Optional<StatusView.Snapshot> o = status.find(original).filter(x -> owner(x).equals(tenant.id()));
            if (o.isPresent()) {
                return RequestView.of(id, o.get().status(), o.get().result(), original);
            }
            return RequestView.of(id, s.status(), null, original);
        }
        return RequestView.of(id, s.status(), s.result(), null);
    }

    private static String owner(StatusView.Snapshot s) {
        return s.status() != null ? s.status().getTenantId() : s.result().getTenantId();
    }

    private static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw new ApiException(400, "invalid_request", "body", "request body is empty; expected a JSON object");
        }
        try {
            return Json.mapper().readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "invalid_json", "body", "body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new ApiException(400, "invalid_json", "body", "body could not be read");
        }
    }

    private String baseUrl(HttpRequest<?> request) {
        if (config.publicUrl() != null) {
            return config.publicUrl().replaceAll("/+$", "");
        }
        String host = request.getHeaders().get(HttpHeaders.HOST);
        return "http://" + (host != null ? host : config.host() + ":" + config.port());
    }
}
