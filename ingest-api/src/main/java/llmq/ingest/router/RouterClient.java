package llmq.ingest.router;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import llmq.common.json.Json;
import llmq.ingest.cluster.Peers;

/**
 * The priority-router's read-only admin view ({@code ingest.router-admin-url}): where a waiting
 * request is ({@code GET /v1/requests/{id}/position}) and the backlog per level
 * ({@code GET /v1/backlog}). Best effort: an unreachable router or an unexpected answer is an empty
 * result, never an error for ingest's caller.
 */
public final class RouterClient {

    private final String baseUrl;
    private final Duration timeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500))
            .version(HttpClient.Version.HTTP_1_1).build();

    public RouterClient(String baseUrl, Duration timeout) {
        this.baseUrl = baseUrl;
        this.timeout = timeout;
    }

    /** The router's position document of a request it holds, if it answers. */
    public Optional<JsonNode> position(String requestId) {
        return get("/v1/requests/" + Peers.segment(requestId) + "/position");
    }

    /** The router's backlog document (every router instance summed), if it answers. */
    public Optional<JsonNode> backlog() {
        return get("/v1/backlog");
    }

    private Optional<JsonNode> get(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return Optional.empty();
            }
            return Optional.of(Json.mapper().readTree(r.body()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
