package llmq.ingest.web;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.common.http.HealthCheck;
import llmq.ingest.results.ResultsFollower;
import llmq.ingest.status.StatusService;
import llmq.ingest.tenants.TenantDirectory;

/**
 * {@code GET /health} (200 when every check is up, else 503), {@code GET /metrics} (Prometheus text)
 * and {@code GET /openapi.yaml} (the OpenAPI document of this API, the one committed as
 * {@code docs/openapi.yaml}).
 */
@Controller
final class OpsController {

    /** Classpath location of the OpenAPI document (copied from docs/ at build time). */
    static final String OPENAPI = "llmq/ingest/openapi/openapi.yaml";

    private final PrometheusMeterRegistry metrics;
    private final StatusService status;
    private final TenantDirectory tenants;
    private final ResultsFollower results;
    private final String openApi;

    OpsController(PrometheusMeterRegistry metrics, StatusService status, TenantDirectory tenants, ResultsFollower results) {
        this.metrics = metrics;
        this.status = status;
        this.tenants = tenants;
        this.results = results;
        this.openApi = load();
    }

    @Get(uri = "/health", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> health() {
        Map<String, Object> checks = new LinkedHashMap<>();
        HealthCheck.Status streams = status.health().check();
        checks.put("status-view", Map.of("status", streams.up() ? "UP" : "DOWN", "detail", streams.detail()));
        checks.put("tenants", Map.of("status", tenants.ready() ? "UP" : "DOWN"));
        checks.put("results-follower", Map.of("status", results.ready() ? "UP" : "DOWN"));
        boolean up = streams.up() && tenants.ready() && results.ready();
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

    @Get(uri = "/openapi.yaml", produces = "application/yaml")
    HttpResponse<String> openApi() {
        return HttpResponse.<String>status(HttpStatus.OK).contentType(MediaType.of("application/yaml")).body(openApi);
    }

    private static String load() {
        try (InputStream in = OpsController.class.getClassLoader().getResourceAsStream(OPENAPI)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + OPENAPI);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
