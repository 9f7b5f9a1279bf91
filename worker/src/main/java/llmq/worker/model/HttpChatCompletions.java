package llmq.worker.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.RequestParams;
import llmq.common.json.Json;
import llmq.worker.model.internal.SseAccumulator;

/**
 * {@link ChatCompletions} over HTTP with the JDK client: {@code POST <base>/chat/completions},
 * either as one JSON answer or streamed as server-sent events (then with
 * {@code stream_options.include_usage}, and the time to the first token measured). The request
 * id, tenant and attempt travel as {@code X-LLMQ-Request-Id}, {@code X-LLMQ-Tenant} and
 * {@code X-LLMQ-Attempt} headers so that an endpoint (or the simulator's audit) can correlate
 * calls. When an answer carries no usage the tokens are counted here and marked estimated.
 */
public final class HttpChatCompletions implements ChatCompletions {

    /** Parameters llmq sets itself; a request's own copies in {@code params.extra} are not passed on. */
    private static final Set<String> OWN_PARAMS = Set.of("model", "messages", "stream", "stream_options", "user");

    private final String name;
    private final URI url;
    private final String apiKey;
    private final Duration timeout;
    private final boolean stream;
    private final HttpClient http;
    private final Clock clock;
    private final ObjectMapper json = Json.mapper();

    /**
     * @param name    endpoint name for logs, metrics and usage records
     * @param baseUrl OpenAI-style base URL ending in {@code /v1}
     * @param apiKey  bearer key, or null
     * @param timeout whole-call timeout (headers and body)
     * @param stream  whether to ask the endpoint for a streamed answer
     */
    public HttpChatCompletions(String name, String baseUrl, String apiKey, Duration timeout, boolean stream,
                               HttpClient http, Clock clock) {
        this.name = name;
        this.url = URI.create((baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl)
                + "/chat/completions");
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.stream = stream;
        this.http = http;
        this.clock = clock;
    }

    /** A non-streaming client on the system clock. */
    public HttpChatCompletions(String name, String baseUrl, String apiKey, Duration timeout, HttpClient http) {
        this(name, baseUrl, apiKey, timeout, false, http, Clock.systemUTC());
    }

    @Override
    public CompletableFuture<Completion> complete(ModelCall call) {
        LlmRequest request = call.request();
        byte[] body;
        try {
            body = json.writeValueAsBytes(body(request, call.model()));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(new ModelCallException("invalid_request",
                    "cannot encode request: " + e.getMessage(), null, false, null, name, e));
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", stream ? "text/event-stream" : "application/json")
                .header("X-LLMQ-Request-Id", request.getId())
                .header("X-LLMQ-Tenant", request.getTenantId())
                .header("X-LLMQ-Attempt", Integer.toString(call.attempt()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (apiKey != null && !apiKey.isBlank()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        long started = System.nanoTime();
        CompletableFuture<Completion> answer;
        CompletableFuture<?> exchange;
        if (stream) {
            CompletableFuture<HttpResponse<Streamed>> f = http.sendAsync(b.build(), info -> streamed(info, started));
            exchange = f;
            answer = f.handle((response, error) -> {
                if (error != null) {
                    throw failure(error);
                }
                Streamed s = response.body();
                if (s.errorBody() != null) {
                    throw ModelCallException.forStatus(response.statusCode(), s.errorBody(),
                            retryAfter(response.headers()), name);
                }
                return fromStream(call, s.sse(), (System.nanoTime() - started) / 1_000_000);
            });
        } else {
            CompletableFuture<HttpResponse<String>> f = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
            exchange = f;
            answer = f.handle((response, error) -> {
                if (error != null) {
                    throw failure(error);
                }
                if (response.statusCode() / 100 != 2) {
                    throw ModelCallException.forStatus(response.statusCode(), response.body(),
                            retryAfter(response.headers()), name);
                }
                return parse(call, response.body(), (System.nanoTime() - started) / 1_000_000);
            });
        }
        // the request timeout covers only the response headers; a body (a slow stream) gets the same bound
        return answer.orTimeout(timeout.toMillis() + 50, TimeUnit.MILLISECONDS).whenComplete((c, e) -> {
            if (e != null && !exchange.isDone()) {
                exchange.cancel(true);
            }
        }).handle((c, e) -> {
            if (e == null) {
                return c;
            }
            throw failure(e);
        });
    }

    /** The body of a streamed call: the assembled events, or the error text of a non-2xx answer. */
    private record Streamed(SseAccumulator sse, String errorBody) {
    }

    private HttpResponse.BodySubscriber<Streamed> streamed(HttpResponse.ResponseInfo info, long started) {
        if (info.statusCode() / 100 != 2) {
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8),
                    text -> new Streamed(null, text));
        }
        return HttpResponse.BodySubscribers.fromLineSubscriber(new SseAccumulator(started),
                sse -> new Streamed(sse, null), StandardCharsets.UTF_8, null);
    }

    private ModelCallException failure(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException)
                && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof ModelCallException m) {
            return m;
        }
        if (e instanceof HttpTimeoutException || e instanceof TimeoutException) {
            return new ModelCallException("timeout", "no answer from " + name + " within " + timeout, null, true,
                    null, name, e);
        }
        if (e instanceof ConnectException) {
            return new ModelCallException("connect_error", "cannot connect to " + name + ": " + e, null, true,
                    null, name, e);
        }
        if (e instanceof CancellationException) {
            return new ModelCallException("cancelled", "call to " + name + " was cancelled", null, true, null, name, e);
        }
        return new ModelCallException("io_error", "call to " + name + " failed: " + e, null, true, null, name, e);
    }

    private Completion parse(ModelCall call, String body, long latency) {
        JsonNode r;
        try {
            r = json.readTree(body);
        } catch (IOException e) {
            throw new ModelCallException("bad_response", "endpoint " + name + " answered non-JSON", null, true, null,
                    name, e);
        }
        JsonNode choice = r.path("choices").path(0);
        String content = choice.path("message").path("content").asText("");
        return completion(call, content, choice.path("finish_reason").asText(null),
                r.path("model").asText(call.model()), r.path("usage"), latency, -1);
    }

    private Completion fromStream(ModelCall call, SseAccumulator sse, long latency) {
        if (sse.protocolError() != null) {
            throw new ModelCallException("bad_response", "endpoint " + name + " " + sse.protocolError(), null, true,
                    null, name, null);
        }
        if (!sse.done() && sse.finishReason() == null) {
            throw new ModelCallException("io_error", "stream from " + name + " ended before it finished ("
                    + sse.events() + " events)", null, true, null, name, null);
        }
        return completion(call, sse.content(), sse.finishReason(), sse.model() == null ? call.model() : sse.model(),
                sse.usage(), latency, sse.firstTokenNanos());
    }

    private Completion completion(ModelCall call, String content, String finishReason, String servedModel,
                                  JsonNode usage, long latency, long ttftNanos) {
        boolean estimated = usage == null || usage.isMissingNode() || usage.isNull()
                || !usage.hasNonNull("prompt_tokens");
        int prompt = estimated ? estimateTokens(call.request()) : usage.path("prompt_tokens").asInt();
        int completion = estimated ? estimateTokens(content) : usage.path("completion_tokens").asInt();
        int cached = estimated ? 0 : usage.path("prompt_tokens_details").path("cached_tokens").asInt(0);
        return new Completion(content, finishReason, servedModel, prompt, completion, cached, estimated, name, latency,
                ttftNanos);
    }

    /** Rough count (4 characters per token, plus per-message overhead) used only when an endpoint reports no usage. */
    public static int estimateTokens(LlmRequest request) {
        int chars = 0;
        for (ChatMessage m : request.getMessages()) {
            chars += m.getContent().length() + 16;
        }
        return Math.max(1, chars / 4);
    }

    /** Rough count of a text's tokens: one per 4 characters, at least 1. */
    public static int estimateTokens(String text) {
        return Math.max(1, (text.length() + 3) / 4);
    }

    private ObjectNode body(LlmRequest request, String model) throws IOException {
        ObjectNode b = json.createObjectNode();
        b.put("model", model);
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
                if (!OWN_PARAMS.contains(e.getKey())) {
                    b.set(e.getKey(), json.readTree(e.getValue()));
                }
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
        b.put("stream", stream);
        if (stream) {
            b.putObject("stream_options").put("include_usage", true);
        }
        b.put("user", request.getTenantId());
        return b;
    }

    private Duration retryAfter(HttpHeaders headers) {
        Duration ms = headers.firstValue("retry-after-ms").map(HttpChatCompletions::parseMillis).orElse(null);
        if (ms != null) {
            return ms;
        }
        return headers.firstValue("Retry-After").map(v -> parseRetryAfter(v, clock.instant())).orElse(null);
    }

    private static Duration parseMillis(String v) {
        try {
            double millis = Double.parseDouble(v.trim());
            return millis < 0 ? null : Duration.ofMillis((long) Math.ceil(millis));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * A {@code Retry-After} value: delay-seconds (fractions accepted) or an HTTP date; null when
     * it is neither. A date in the past is a zero delay.
     */
    public static Duration parseRetryAfter(String v, Instant now) {
        String t = v.trim();
        try {
            double seconds = Double.parseDouble(t);
            return seconds < 0 ? null : Duration.ofMillis((long) Math.ceil(seconds * 1000));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(t, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(now, at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }
}
