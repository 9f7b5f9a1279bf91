package llmq.ingest.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import llmq.common.json.Json;
import llmq.ingest.router.RouterClient;
import llmq.ingest.status.QueueStats;
import llmq.ingest.status.StatusService;
import llmq.ingest.tenants.Caller;

/**
 * {@code GET /v1/queues}: per level, the depth the router reports ({@code GET /v1/backlog}: parked,
 * delayed and queued requests, summed over the router instances) and, from the events the status view
 * folds (all ingest instances merged), requests accepted and finished per second and the wait from
 * acceptance to the first start (p50/p90/p99) over the recent window ({@code ingest.queues.window}).
 * Depths are omitted when the router does not answer ({@code "router": "unreachable"}).
 */
@Controller("/v1/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class QueuesController {

    private final StatusService status;
    private final RouterClient router;
    private final WebSupport web;

    QueuesController(StatusService status, RouterClient router, WebSupport web) {
        this.status = status;
        this.router = router;
        this.web = web;
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> queues(HttpRequest<?> request, @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization) {
        Caller caller = web.caller(request, authorization);
        List<QueueStats.Sample> samples = status.allStats(caller);
        Map<String, QueueStats.LevelView> merged = QueueStats.merge(samples);
        Optional<JsonNode> backlog = router.backlog();
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("object", "llm.queues");
        out.put("window_seconds", samples.get(0).windowSeconds());
        out.put("instances", samples.size());
        out.put("router", backlog.isPresent() ? "ok" : "unreachable");
        ObjectNode levels = out.putObject("levels");
        merged.forEach((level, v) -> {
            ObjectNode l = levels.putObject(level);
            backlog.map(b -> b.path("levels").path(level)).filter(JsonNode::isObject).ifPresent(b -> {
                long parked = b.path("parked").asLong();
                long delayed = b.path("delayed").asLong();
                long queued = b.path("queued").asLong();
                l.put("depth", parked + delayed + queued);
                l.put("parked", parked);
                l.put("delayed", delayed);
                l.put("queued", queued);
                l.put("releases_per_second", b.path("releases_per_second").asDouble());
            });
            l.put("accepted_per_second", v.acceptedPerSecond());
            l.put("completed_per_second", v.finishedPerSecond());
            ObjectNode w = l.putObject("wait_ms");
            w.put("samples", v.waitSamples());
            putOrNull(w, "p50", v.waitP50Ms());
            putOrNull(w, "p90", v.waitP90Ms());
            putOrNull(w, "p99", v.waitP99Ms());
        });
        return Responses.json(200, out);
    }

    private static void putOrNull(ObjectNode o, String f, Long v) {
        if (v == null) {
            o.putNull(f);
        } else {
            o.put(f, v);
        }
    }
}
