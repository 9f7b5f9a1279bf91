package llmq.modelsim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import llmq.common.config.Settings;
import llmq.common.json.Json;

/** Test helper: a JDK HttpClient speaking to one simulator, and request/response JSON helpers. */
final class SimClient {

    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final ModelSimulator sim;

    SimClient(ModelSimulator sim) {
        this.sim = sim;
    }

    /** A config on a free loopback port with these {@code key, value} pairs on top of the defaults. */
    static ModelSimConfig config(String... keyValues) {
        Map<String, String> values = new HashMap<>();
        values.put("modelsim.port", "0");
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put(keyValues[i], keyValues[i + 1]);
        }
        return ModelSimConfig.from(Settings.of(values));
    }

    /** {@code {"model": model, "messages": [{"role":"user","content": content}]}}. */
    static ObjectNode chat(String model, String content) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("model", model);
        ArrayNode messages = body.putArray("messages");
        ObjectNode system = messages.addObject();
        system.put("role", "system");
        system.put("content", "You are a test.");
        ObjectNode user = messages.addObject();
        user.put("role", "user");
        user.put("content", content);
        return body;
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(sim.rootUrl() + path)).timeout(Duration.ofSeconds(30));
    }

    HttpRequest chatRequest(JsonNode body, String... headers) {
        HttpRequest.Builder b = request("/v1/chat/completions")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    HttpResponse<String> chat(JsonNode body, String... headers) throws IOException, InterruptedException {
        return HTTP.send(chatRequest(body, headers), HttpResponse.BodyHandlers.ofString());
    }

    CompletableFuture<HttpResponse<String>> chatAsync(JsonNode body, String... headers) {
        return HTTP.sendAsync(chatRequest(body, headers), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postRaw(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return HTTP.send(request(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> response) {
        return json(response.body());
    }

    static JsonNode json(String text) {
        try {
            return Json.mapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    /** The {@code data:} payloads of a server-sent event stream, in order. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (!event.isBlank()) {
                if (!event.startsWith("data: ")) {
                    throw new AssertionError("not an SSE data event: " + event);
                }
                out.add(event.substring("data: ".length()));
            }
        }
        return out;
    }

    /** Concatenated {@code delta.content} of the chunks of a stream. */
    static String reassemble(List<String> events) {
        StringBuilder text = new StringBuilder();
        for (String e : events) {
            if (!"[DONE]".equals(e)) {
                JsonNode choices = json(e).path("choices");
                if (choices.size() > 0) {
                    text.append(choices.get(0).path("delta").path("content").asText(""));
                }
            }
        }
        return text.toString();
    }

    /** Polls {@code condition} until it holds, failing after {@code timeout}. */
    static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
