package llmq.modelsim.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import llmq.common.json.Json;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.tokens.TokenModel;

/**
 * One streamed ({@code text/event-stream}) answer, written chunk by chunk from scheduler
 * threads: the role chunk and the first content chunk after the time to first token, then one
 * chunk of N tokens every N × per-token delay, then the finish chunk, the optional usage chunk
 * and {@code [DONE]}. Steps of one answer never overlap: each schedules the next.
 */
final class StreamingAnswer {

    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    private final InFlight inFlight;
    private final HttpExchange exchange;
    private final Audit audit;
    private final String requestId;
    private final String tenant;
    private final String model;
    private final String id;
    private final long created;
    private final TokenModel.Completion completion;
    private final boolean includeUsage;
    private final int chunkTokens;
    private final long ttftNanos;
    private final long perTokenNanos;
    private final List<String> words;

    private InFlight.Call call;
    private OutputStream out;
    /** Words written so far; read by the abort hook on another thread. */
    private volatile int sent;

    StreamingAnswer(InFlight inFlight, HttpExchange exchange, Audit audit, String requestId, String tenant,
            String model, String id, long created, TokenModel.Completion completion, boolean includeUsage,
            int chunkTokens, long ttftNanos, long perTokenNanos) {
        this.inFlight = inFlight;
        this.exchange = exchange;
        this.audit = audit;
        this.requestId = requestId;
        this.tenant = tenant;
        this.model = model;
        this.id = id;
        this.created = created;
        this.completion = completion;
        this.includeUsage = includeUsage;
        this.chunkTokens = chunkTokens;
        this.ttftNanos = ttftNanos;
        this.perTokenNanos = perTokenNanos;
        this.words = completion.words();
    }

    void start() {
        // A stream that breaks off or is aborted was not served: record what was sent, status 0.
        call = inFlight.open(exchange, () -> audit.record(requestId, tenant, model, Audit.NOT_ANSWERED,
                sent > 0 ? completion.promptTokens() : 0, sent, true));
        inFlight.schedule(call, ttftNanos, this::first);
    }

    private void first() throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        out = exchange.getResponseBody();
        ObjectNode delta = Json.mapper().createObjectNode();
        delta.put("role", "assistant");
        delta.put("content", "");
        write(chunk(delta, null));
        next();
    }

    private void next() throws IOException {
        while (true) {
            int n = Math.min(chunkTokens, words.size() - sent);
            String text = (sent == 0 ? "" : " ") + String.join(" ", words.subList(sent, sent + n));
            ObjectNode delta = Json.mapper().createObjectNode();
            delta.put("content", text);
            write(chunk(delta, null));
            sent += n;
            if (sent >= words.size()) {
                finish();
                return;
            }
            long delay = perTokenNanos * Math.min(chunkTokens, words.size() - sent);
            if (delay > 0) {
                inFlight.schedule(call, delay, this::next);
                return;
            }
        }
    }

    private void finish() throws IOException {
        if (!call.claim()) {
            return;
        }
        audit.record(requestId, tenant, model, 200, completion.promptTokens(), completion.completionTokens(), true);
        write(chunk(Json.mapper().createObjectNode(), completion.finishReason()));
        if (includeUsage) {
            ObjectNode usageChunk = header();
            usageChunk.putArray("choices");
            ChatCompletions.usage(usageChunk.putObject("usage"), completion);
            write(usageChunk);
        }
        out.write(DONE);
        out.close();
        exchange.close();
    }

    private ObjectNode header() {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("id", id);
        root.put("object", "chat.completion.chunk");
        root.put("created", created);
        root.put("model", model);
        root.put("system_fingerprint", ChatCompletions.FINGERPRINT);
        return root;
    }

    private ObjectNode chunk(ObjectNode delta, String finishReason) {
        ObjectNode root = header();
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        if (includeUsage) {
            root.putNull("usage");
        }
        return root;
    }

    private void write(ObjectNode event) throws IOException {
        out.write(("data: " + Json.mapper().writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
