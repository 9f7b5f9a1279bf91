package llmq.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;
import llmq.common.json.Json;

/** A small client of llmq's native HTTP API for end-to-end and fault tests. */
public final class ApiClient {

    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;
    private final String key;

    public ApiClient(String base, String key) {
        this.base = base;
        this.key = key;
    }

    /** Status code and parsed body. */
    public record Reply(int status, JsonNode body) {
    }

    public Reply post(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/requests"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), Json.mapper().readTree(r.body()));
    }

    public Reply get(String id) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/requests/" + id))
                .header("Authorization", "Bearer " + key).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), Json.mapper().readTree(r.body()));
    }

    /** Polls {@code GET /v1/requests/{id}} until {@code done} holds or the timeout passes; returns the last body. */
    public JsonNode await(String id, Predicate<JsonNode> done, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            Reply r = get(id);
            last = r.body();
            if (r.status() == 200 && done.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        return last;
    }

    public static boolean completed(JsonNode n) {
        return "completed".equals(n.path("status").asText());
    }
}
