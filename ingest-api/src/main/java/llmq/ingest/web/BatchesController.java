package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.avro.Priority;
import llmq.common.json.Json;
import llmq.ingest.IngestConfig;
import llmq.ingest.batches.BatchSubmitter;
import llmq.ingest.batches.Batches;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.tenants.Caller;

/**
 * Batches: {@code POST /v1/batches} (JSONL, one request per line with a {@code custom_id}; 202 with the
 * batch id once all of it is in Kafka, or 400 naming the first bad line and field, nothing submitted),
 * {@code GET /v1/batches/{id}} (progress) and {@code GET /v1/batches/{id}/results} (JSONL, a line per
 * request known so far).
 */
@Controller("/v1/batches")
@ExecuteOn(TaskExecutors.BLOCKING)
final class BatchesController {

    private final Batches batches;
    private final WebSupport web;
    private final IngestConfig config;

    BatchesController(Batches batches, WebSupport web, IngestConfig config) {
        this.batches = batches;
        this.web = web;
        this.config = config;
    }

    @Post(consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> submit(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                @Nullable @Header("X-LLMQ-Priority") String priority, @Nullable @Body byte[] body) {
        Caller caller = web.caller(request, authorization);
        WebSupport.tooLarge(body, config.batches().maxBody());
        Priority level = priority == null ? null : SubmitParser.level(priority, "X-LLMQ-Priority");
        BatchSubmitter.Written w = batches.submit(caller, body, level, Map.of());
        request.setAttribute(AccessLog.REQUEST_ID, w.id());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", w.id());
        out.put("object", "llm.batch");
        out.put("status", "in_progress");
        out.put("total", w.total());
        out.put("created_at", w.createdAt());
        out.put("status_url", web.baseUrl(request) + "/v1/batches/" + w.id());
        out.put("results_url", web.baseUrl(request) + "/v1/batches/" + w.id() + "/results");
        return Responses.json(202, out).header(HttpHeaders.LOCATION, web.baseUrl(request) + "/v1/batches/" + w.id());
    }

    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> progress(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                  @PathVariable String id) {
        Caller caller = web.caller(request, authorization);
        request.setAttribute(AccessLog.REQUEST_ID, id);
        Batches.Progress p = batches.progress(caller, id);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("object", "llm.batch");
        out.put("status", p.status());
        out.put("total", p.batch().getTotal());
        out.put("done", p.done());
        out.put("pending", Math.max(0, p.batch().getTotal() - p.done()));
        out.put("counts", p.counts());
        out.put("created_at", p.batch().getCreatedAt());
        out.put("results_url", web.baseUrl(request) + "/v1/batches/" + id + "/results");
        return Responses.json(200, out);
    }

    @Get(uri = "/{id}/results", produces = "application/x-ndjson")
    HttpResponse<String> results(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
                                 @PathVariable String id) throws JsonProcessingException {
        Caller caller = web.caller(request, authorization);
        request.setAttribute(AccessLog.REQUEST_ID, id);
        Batches.Progress p = batches.progress(caller, id);
        StringBuilder sb = new StringBuilder();
        for (ObjectNode line : batches.results(caller, id)) {
            sb.append(Json.mapper().writeValueAsString(line)).append('\n');
        }
        return HttpResponse.<String>status(HttpStatus.OK).contentType(MediaType.of("application/x-ndjson"))
                .header("X-LLMQ-Batch-Status", p.status()).body(sb.toString());
    }
}
