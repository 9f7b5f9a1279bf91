package llmq.ingest.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.time.Instant;
import llmq.common.json.Json;
import llmq.ingest.IngestConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The structured access log: one JSON line per request on the logger {@code llmq.ingest.access} —
 * time, method, path, status, tenant, request id, latency, body size, client address. Never the
 * {@code Authorization} header, keys or bodies; the prompt (the request's messages) only when
 * {@code ingest.log-prompts=true}. Off with {@code ingest.access-log=false}.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
final class AccessLog {

    /** Request attribute: the tenant that was authenticated. */
    static final String TENANT = "llmq.tenant";
    /** Request attribute: the request (or batch) id the call created or concerned. */
    static final String REQUEST_ID = "llmq.request-id";
    /** Request attribute: the prompt, set only when prompts may be logged. */
    static final String PROMPT = "llmq.prompt";
    private static final String STARTED = "llmq.started";

    private static final Logger LOG = LoggerFactory.getLogger("llmq.ingest.access");

    private final boolean enabled;

    AccessLog(IngestConfig config) {
        this.enabled = config.accessLog();
    }

    @RequestFilter
    void start(HttpRequest<?> request) {
        request.setAttribute(STARTED, System.nanoTime());
    }

    @ResponseFilter
    void log(HttpRequest<?> request, MutableHttpResponse<?> response) {
        if (!enabled || !LOG.isInfoEnabled()) {
            return;
        }
        ObjectNode line = Json.mapper().createObjectNode();
        line.put("ts", Instant.now().toString());
        line.put("method", request.getMethodName());
        line.put("path", request.getPath());
        line.put("status", response.code());
        request.getAttribute(TENANT, String.class).ifPresent(t -> line.put("tenant", t));
        request.getAttribute(REQUEST_ID, String.class).ifPresent(id -> line.put("request_id", id));
        request.getAttribute(STARTED, Long.class).ifPresent(t0 ->
                line.put("latency_ms", Math.round((System.nanoTime() - t0) / 1e4) / 100.0));
        line.put("bytes_in", request.getContentLength());
        if (request.getRemoteAddress() != null && request.getRemoteAddress().getAddress() != null) {
            line.put("client", request.getRemoteAddress().getAddress().getHostAddress());
        }
        request.getAttribute(PROMPT, String.class).ifPresent(p -> line.put("prompt", p));
        try {
            LOG.info(Json.mapper().writeValueAsString(line));
        } catch (JsonProcessingException e) {
            LOG.warn("access log line not written: {}", e.toString());
        }
    }
}
