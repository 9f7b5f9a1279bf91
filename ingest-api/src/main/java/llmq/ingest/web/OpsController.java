package llmq.ingest.web;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.ingest.status.StatusView;
import llmq.ingest.tenants.TenantDirectory;

/** {@code GET /health} (200 when every check is up, else 503) and {@code GET /metrics} (Prometheus text). */
@Controller
final class OpsController {

    private final PrometheusMeterRegistry metrics;
    private final StatusView status;
    private final TenantDirectory tenants;

    OpsController(PrometheusMeterRegistry metrics, StatusView status, TenantDirectory tenants) {
        this.metrics = metrics;
        this.status = status;
        this.tenants = tenants;
    }

    @Get(uri = "/health", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> health() {
        Map<String, Object> checks = new LinkedHashMap<>();
        var streams = status.app().health().check();
        checks.put("status-view", Map.of("status", streams.up() ? "UP" : "DOWN", "detail", streams.detail()));
        checks.put("tenants", Map.of("status", tenants.ready() ? "UP" : "DOWN"));
        boolean up = streams.up() && tenants.ready();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("service", "ingest-api");
        doc.put("status", up ? "UP" : "DOWN");
        doc.put("checks", checks);
        return Responses.json(up ? 200 : 503, doc);
    }

    @Get(uri = "/metrics", produces = "text/plain; version=0.0.4; charset=utf-8")
    String metrics() {
        return metrics.scrape();
    }
}
