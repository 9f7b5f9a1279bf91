package llmq.worker.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.RequestParams;
import llmq.common.json.Json;

/**
 * {@link ChatCompletions} over HTTP with the JDK client: {@code POST <base>/chat/completions},
 * non-streaming. The request id and tenant travel as {@code X-LLMQ-Request-Id} and
 * {@code X-LLMQ-Tenant} headers, so an endpoint (or the simulator's audit) can correlate calls.
 */
public final class HttpChatCompletions implements ChatCompletions {

    private final String name;
    private final URI url;
    private final String apiKey;
    private final Duration timeout;
    private final HttpClient http;
    private final ObjectMapper json = Json.mapper();

    /**
     * @param name    endpoint name for logs, metrics and usage records
     * @param baseUrl OpenAI-style base URL ending in {@code /v1}
     * @param apiKey  bearer key, or null
     * @param timeout whole-call timeout
     */
    public HttpChatCompletions(String name, String baseUrl, String apiKey, Duration timeout, HttpClient http) {
        this.name = name;
        this.url = URI.create((baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl)
                + "/chat/completions");
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.http = http;
    }

    @Override
    public CompletableFuture<Completion> complete(LlmRequest request, int attempt) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(body(request));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new ModelCallException("invalid_request",
                    "cannot encode request: " + e.getMessage(), null, false, null, name, e));
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("X-LLMQ-Request-Id", request.getId())
                .header("X-LLMQ-Tenant", request.getTenantId())
                .header("X-LLMQ-Attempt", Integer.toString(attempt))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (apiKey != null && !apiKey.isBlank()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        long started = System.nanoTime();
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
                .handle((response, error) -> {
                    long latency = (System.nanoTime() - started) / 1_000_000;
                    if (error != null) {
                        throw failure(error);
                    }
                    if (response.statusCode() / 100 != 2) {
                        Duration retryAfter = response.headers().firstValue("Retry-After")
                                .map(HttpChatCompletions::parseRetryAfter).orElse(null);
                        throw ModelCallException.forStatus(response.statusCode(), response.body(), retryAfter, name);
                    }
                    return parse(request, response.body(), latency);
                });
    }

    private ModelCallException failure(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof HttpTimeoutException) {
            return new ModelCallException("timeout", "no answer from " + name + " within " + timeout, null, true, null, name, e);
        }
        if (e instanceof ConnectException) {
            return new ModelCallException("connect_error", "cannot connect to " + name + ": " + e, null, true, null, name, e);
        }
        return new ModelCallException("io_error", "call to " + name + " failed: " + e, null, true, null, name, e);
    }

    private Completion parse(LlmRequest request, String body, long latency) {
        JsonNode r;
        try {
            r = json.readTree(body);
        } catch (IOException e) {
            throw new ModelCallException("bad_response", "endpoint " + name + " answered non-JSON", null, true, null, name, e);
        }
        JsonNode choice = r.path("choices").path(0);
        String content = choice.path("message").path("content").asText("");
        JsonNode usage = r.path("usage");
        boolean estimated = usage.isMissingNode() || usage.isNull();
        int prompt = estimated ? estimateTokens(request) : usage.path("prompt_tokens").asInt();
        int completion = estimated ? Math.max(1, (content.length() + 3) / 4) : usage.path("completion_tokens").asInt();
        int cached = usage.path("prompt_tokens_details").path("cached_tokens").asInt(0);
        return new Completion(content, choice.path("finish_reason").asText(null), r.path("model").asText(request.getModel()),
                prompt, completion, cached, estimated, name, latency);
    }

    /** Rough count (4 characters per token) used only when an endpoint reports no usage. */
    static int estimateTokens(LlmRequest request) {
        int chars = 0;
        for (ChatMessage m : request.getMessages()) {
            chars += m.getContent().length() + 16;
        }
        return Math.max(1, chars / 4);
    }

    private ObjectNode body(LlmRequest request) throws IOException {
        ObjectNode b = json.createObjectNode();
        b.put("model", request.getModel());
        ArrayNode messages = b.putArray("messages");
        for (ChatMessage m : request.getMessages()) {
            ObjectNode o = messages.addObject().put("role", m.getRole()).put("content", m.getContent());
            if (m.getName() != null) {
                o.put("name", m.getName());
            }
        }
        RequestParams p = request.getParams();
        if (p != null) {
            for (var e : p.getExtra().entrySet()) {
                b.set(e.getKey(), json.readTree(e.getValue()));
            }
            if (p.getMaxTokens() != null) {
                b.put("max_tokens", p.getMaxTokens());
            }
            if (p.getTemperature() != null) {
                b.put("temperature", p.getTemperature());
            }
            if (p.getTopP() != null) {
                b.put("top_p", p.getTopP());
            }
            if (p.getSeed() != null) {
                b.put("seed", p.getSeed());
            }
            if (!p.getStop().isEmpty()) {
                ArrayNode stop = b.putArray("stop");
                p.getStop().forEach(stop::add);
            }
        }
        b.put("stream", false);
        b.put("user", request.getTenantId());
        return b;
    }

    static Duration parseRetryAfter(String v) {
        try {
            return Duration.ofMillis((long) (Double.parseDouble(v.trim()) * 1000));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
