package llmq.ingest.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import llmq.avro.LlmResult;
import llmq.avro.ResultStatus;
import llmq.common.json.Json;
import llmq.ingest.IngestConfig;
import llmq.ingest.models.KnownModels;
import llmq.ingest.openai.ChatRequestParser;
import llmq.ingest.openai.ChatResponses;
import llmq.ingest.results.ResultWaiters;
import llmq.ingest.status.StatusService;
import llmq.ingest.submit.ApiException;
import llmq.ingest.submit.Intake;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.tenants.Caller;
import llmq.topics.catalog.TopicCatalog;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions} and {@code GET /v1/models}. A chat
 * completion goes through the queue like any other request (priority from {@code X-LLMQ-Priority} or a
 * {@code priority} body field, else the tenant's default) while the connection waits — without holding
 * a thread — for its result, up to {@code ingest.openai.timeout} (then 504; the request stays queued
 * and its id is in the message and in {@code X-LLMQ-Request-Id}). {@code stream: true} answers with
 * OpenAI's SSE chunks of the finished result. Every error is in OpenAI's shape.
 */
@Controller("/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
final class ChatController {

    private final ChatRequestParser parser;
    private final Intake intake;
    private final ResultWaiters waiters;
    private final StatusService status;
    private final KnownModels models;
    private final IngestConfig config;
    private final WebSupport web;

    ChatController(ChatRequestParser parser, Intake intake, ResultWaiters waiters, StatusService status,
                   KnownModels models, IngestConfig config, WebSupport web) {
        this.parser = parser;
        this.intake = intake;
        this.waiters = waiters;
        this.status = status;
        this.models = models;
        this.config = config;
        this.web = web;
    }

    @Post(uri = "/chat/completions", consumes = MediaType.ALL, produces = {MediaType.APPLICATION_JSON, MediaType.TEXT_EVENT_STREAM})
    CompletableFuture<HttpResponse<String>> complete(HttpRequest<?> request,
                                                    @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                                    @Nullable @Header("X-LLMQ-Priority") String priority,
                                                    @Nullable @Header(RequestsController.IDEMPOTENCY_KEY) String idempotencyKey,
                                                    @Nullable @Body byte[] body) {
        Caller caller = web.caller(request, authorization);
        JsonNode json = web.json(body, web.maxBody());
        ChatRequestParser.ChatRequest chat = parser.parse(json, priority, idempotencyKey);
        if (chat.request().notBefore() != null) {
            throw new InvalidRequestException("not_before", "is not supported while the connection waits; use POST /v1/requests");
        }
        if (chat.request().callbackUrl() != null) {
            throw new InvalidRequestException("callback_url", "is not supported while the connection waits; use POST /v1/requests");
        }
        web.prompt(request, chat.request());
        String id = UUID.randomUUID().toString();
        CompletableFuture<LlmResult> result = waiters.await(id);
        CompletableFuture<Intake.Outcome> submitted;
        try {
            submitted = intake.submit(caller, chat.request(), "openai", id);
        } catch (RuntimeException e) {
            waiters.forget(id);
            throw e;
        }
        return submitted.thenCompose(o -> {
            request.setAttribute(AccessLog.REQUEST_ID, o.id());
            CompletableFuture<LlmResult> awaited = result;
            if (o.replayed()) {
                waiters.forget(id);
                awaited = waitForExisting(caller, o.id());
            }
            String waitedId = o.id();
            return awaited.orTimeout(config.openAiTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .<HttpResponse<String>>handle((r, error) -> {
                        waiters.forget(waitedId);
                        if (error != null) {
                            if (error instanceof TimeoutException || error.getCause() instanceof TimeoutException) {
                                throw timeout(waitedId);
                            }
                            throw error instanceof RuntimeException re ? re : new CompletionException(error);
                        }
                        return answer(waitedId, chat, r, o.headers());
                    });
        }).whenComplete((r, e) -> {
            if (e != null) {
                waiters.forget(id);
            }
        });
    }

    /** The result of a request accepted earlier (idempotent replay): already there, or awaited. */
    private CompletableFuture<LlmResult> waitForExisting(Caller caller, String id) {
        CompletableFuture<LlmResult> f = waiters.await(id);
        try {
            Optional<StatusService.Snapshot> s = status.find(caller, id);
            if (s.isPresent() && s.get().result() != null) {
                f.complete(s.get().result());
            }
        } catch (RuntimeException e) {
            // not known here yet: wait for it
        }
        return f;
    }

    private MutableHttpResponse<String> answer(String id, ChatRequestParser.ChatRequest chat, LlmResult r,
                                               Map<String, String> headers) {
        if (r.getStatus() != ResultStatus.COMPLETED) {
            throw failure(id, r);
        }
        MutableHttpResponse<String> response;
        if (chat.stream()) {
            response = HttpResponse.<String>status(HttpStatus.OK)
                    .contentType(MediaType.TEXT_EVENT_STREAM_TYPE)
                    .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                    .body(ChatResponses.stream(id, chat.request().model(), r, chat.includeUsage()));
        } else {
            response = Responses.json(200, ChatResponses.completion(id, chat.request().model(), r));
        }
        response.header("X-LLMQ-Request-Id", id);
        if (r.getPriority() != null) {
            response.header("X-LLMQ-Priority", TopicCatalog.level(r.getPriority()));
        }
        return Responses.headers(response, headers);
    }

    /** A request that did not complete, as the error OpenAI's clients expect. */
    private static ApiException failure(String id, LlmResult r) {
        String message = r.getError() != null ? r.getError().getMessage() : r.getStatus().name().toLowerCase();
        String type = r.getError() != null ? r.getError().getType() : r.getStatus().name().toLowerCase();
        int status = switch (r.getStatus()) {
            case EXPIRED -> 408;
            case CANCELLED -> 409;
            default -> r.getError() != null && r.getError().getHttpStatus() != null
                    && r.getError().getHttpStatus() >= 400 && r.getError().getHttpStatus() < 500
                    && r.getError().getHttpStatus() != 429 ? r.getError().getHttpStatus() : 502;
        };
        return new ApiException(status, type, null, "request " + id + " " + r.getStatus().name().toLowerCase() + ": " + message)
                .header("X-LLMQ-Request-Id", id);
    }

    private static ApiException timeout(String id) {
        return new ApiException(504, "timeout", null, "no result within the wait limit; request " + id
                + " is still queued: GET /v1/requests/" + id).header("X-LLMQ-Request-Id", id);
    }

    @Get(uri = "/models", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> models(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization) {
        web.caller(request, authorization);
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (String m : models.all()) {
            data.add(model(m));
        }
        return Responses.json(200, out);
    }

    @Get(uri = "/models/{model}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> model(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                               @PathVariable String model) {
        web.caller(request, authorization);
        if (!models.all().contains(model)) {
            throw new ApiException(404, "model_not_found", "model", "the model '" + model + "' does not exist; known models: "
                    + String.join(", ", models.all()));
        }
        return Responses.json(200, model(model));
    }

    private static ObjectNode model(String id) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("id", id);
        o.put("object", "model");
        o.put("created", 0);
        o.put("owned_by", "llmq");
        return o;
    }
}
