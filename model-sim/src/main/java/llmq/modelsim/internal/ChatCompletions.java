package llmq.modelsim.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import llmq.common.json.Json;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.Faults;
import llmq.modelsim.tokens.TokenModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/chat/completions}: validates, draws the call's fault, and answers now or hands
 * the open exchange to the scheduler so that a slow answer costs no thread while it waits.
 * Every call is audited; a 200 is recorded just before its last bytes are written, so a client
 * that has its answer always finds it in the audit.
 */
final class ChatCompletions implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ChatCompletions.class);

    static final String PATH = "/v1/chat/completions";
    static final String REQUEST_ID_HEADER = "X-LLMQ-Request-Id";
    static final String TENANT_HEADER = "X-LLMQ-Tenant";
    static final String FINGERPRINT = "fp_llmq_sim";

    private final ModelSimConfig config;
    private final TokenModel tokens;
    private final Faults faults;
    private final Audit audit;
    private final InFlight inFlight;
    private final Clock clock;
    private final Random jitter;
    private final AtomicLong ids = new AtomicLong();
    private final String idPrefix;

    ChatCompletions(ModelSimConfig config, TokenModel tokens, Faults faults, Audit audit, InFlight inFlight,
            Clock clock) {
        this.config = config;
        this.tokens = tokens;
        this.faults = faults;
        this.audit = audit;
        this.inFlight = inFlight;
        this.clock = clock;
        // A different stream from the fault draws, so latency settings never shift which calls fail.
        this.jitter = new Random(config.seed() ^ 0x5DEECE66DL);
        this.idPrefix = "chatcmpl-" + Long.toHexString(clock.millis()) + "-";
    }

    @Override
    public void handle(HttpExchange ex) {
        String requestId = ex.getRequestHeaders().getFirst(REQUEST_ID_HEADER);
        String tenant = ex.getRequestHeaders().getFirst(TENANT_HEADER);
        byte[] body = null;
        try {
            String path = ex.getRequestURI().getPath();
            if (!PATH.equals(path) && !(PATH + "/").equals(path)) {
                throw ApiError.notFound("Invalid URL (" + ex.getRequestMethod() + " " + path + ")");
            }
            if (!"POST".equals(ex.getRequestMethod())) {
                throw ApiError.methodNotAllowed(ex.getRequestMethod(), PATH, "POST");
            }
            HttpIo.requireApiKey(ex, config.apiKey());
            body = HttpIo.readBody(ex);
            ChatRequest request = ChatRequest.parse(body);
            if (!config.accepts(request.model())) {
                throw new ApiError(404, "The model `" + request.model() + "` does not exist or you do not have "
                        + "access to it.", ApiError.INVALID_REQUEST, null, "model_not_found");
            }
            TokenModel.Completion completion = tokens.complete(request.messages(), request.maxTokens());
            Faults.Injection fault = faults.next();
            switch (fault.kind()) {
                case RATE_LIMIT:
                    audit.record(requestId, tenant, request.model(), 429, 0, 0, request.stream());
                    HttpIo.sendError(ex, withRetryAfter(new ApiError(429, "Rate limit reached for requests "
                            + "(simulated). Please try again later.", "requests", null, "rate_limit_exceeded"),
                            fault.retryAfter()));
                    return;
                case SERVER_ERROR:
                    audit.record(requestId, tenant, request.model(), fault.status(), 0, 0, request.stream());
                    HttpIo.sendError(ex, serverError(fault));
                    return;
                case TIMEOUT:
                    audit.record(requestId, tenant, request.model(), Audit.NOT_ANSWERED, 0, 0, request.stream());
                    inFlight.hang(inFlight.open(ex, null), fault.hang());
                    return;
                default:
                    answer(ex, request, completion, requestId, tenant);
            }
        } catch (ApiError e) {
            audit.record(requestId, tenant, body == null ? null : ChatRequest.modelOrNull(body), e.status(), 0, 0,
                    false);
            send(ex, e);
        } catch (IOException e) {
            LOG.debug("reading a chat request failed", e);
            ex.close();
        } catch (RuntimeException e) {
            LOG.error("chat completion failed", e);
            ApiError error = new ApiError(500, "The simulator failed: " + e, "server_error", null, null);
            audit.record(requestId, tenant, null, 500, 0, 0, false);
            send(ex, error);
        }
    }

    private void send(HttpExchange ex, ApiError e) {
        try {
            HttpIo.sendError(ex, e);
        } catch (IOException io) {
            LOG.debug("sending an error failed", io);
            ex.close();
        }
    }

    private void answer(HttpExchange ex, ChatRequest request, TokenModel.Completion completion, String requestId,
            String tenant) {
        double factor = 1.0;
        if (config.jitter() > 0) {
            synchronized (jitter) {
                factor += config.jitter() * (2 * jitter.nextDouble() - 1);
            }
        }
        long ttft = Math.round(config.ttft().toNanos() * factor);
        long perToken = Math.round(config.perToken().toNanos() * factor);
        String id = idPrefix + ids.incrementAndGet();
        long created = clock.millis() / 1000;
        if (requestId != null) {
            ex.getResponseHeaders().set(REQUEST_ID_HEADER, requestId);
        }
        if (request.stream()) {
            new StreamingAnswer(inFlight, ex, audit, requestId, tenant, request.model(), id, created, completion,
                    request.includeUsage(), config.streamChunkTokens(), ttft, perToken).start();
            return;
        }
        ObjectNode json = completionJson(id, created, request.model(), completion);
        InFlight.Call call = inFlight.open(ex,
                () -> audit.record(requestId, tenant, request.model(), Audit.NOT_ANSWERED, 0, 0, false));
        // The last token is ready when a one-token-per-chunk stream would end.
        long delay = ttft + perToken * (completion.completionTokens() - 1);
        inFlight.schedule(call, delay, () -> {
            if (!call.claim()) {
                return;
            }
            audit.record(requestId, tenant, request.model(), 200, completion.promptTokens(),
                    completion.completionTokens(), false);
            HttpIo.sendJson(ex, 200, json);
        });
    }

    static ObjectNode completionJson(String id, long created, String model, TokenModel.Completion c) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("id", id);
        root.put("object", "chat.completion");
        root.put("created", created);
        root.put("model", model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", c.text());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", c.finishReason());
        usage(root.putObject("usage"), c);
        root.put("system_fingerprint", FINGERPRINT);
        return root;
    }

    static void usage(ObjectNode usage, TokenModel.Completion c) {
        usage.put("prompt_tokens", c.promptTokens());
        usage.put("completion_tokens", c.completionTokens());
        usage.put("total_tokens", c.totalTokens());
    }

    private static ApiError serverError(Faults.Injection fault) {
        if (fault.status() == 503) {
            return withRetryAfter(new ApiError(503, "The server is overloaded or not ready yet (simulated).",
                    "server_error", null, null), fault.retryAfter());
        }
        return new ApiError(fault.status(), "The server had an error while processing your request (simulated).",
                "server_error", null, null);
    }

    private static ApiError withRetryAfter(ApiError e, Duration retryAfter) {
        long seconds = (retryAfter.toMillis() + 999) / 1000;
        return e.header("Retry-After", String.valueOf(seconds))
                .header("retry-after-ms", String.valueOf(retryAfter.toMillis()));
    }
}
