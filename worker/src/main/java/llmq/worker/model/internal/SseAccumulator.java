package llmq.worker.model.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.concurrent.Flow;
import llmq.common.json.Json;

/**
 * Assembles a streamed ({@code text/event-stream}) chat completion line by line as the HTTP
 * client delivers it: the content deltas, the finish reason, the served model, the usage of the
 * final usage chunk when the endpoint sends one, and the time the first content arrived.
 * Lines that are not {@code data:} events (comments, {@code event:}, blank separators) are
 * ignored; a data line that is not JSON is remembered as a protocol error.
 */
public final class SseAccumulator implements Flow.Subscriber<String> {

    private static final ObjectMapper JSON = Json.mapper();

    private final long startNanos;
    private final StringBuilder content = new StringBuilder();
    private String finishReason;
    private String model;
    private JsonNode usage;
    private long firstTokenNanos = -1;
    private boolean done;
    private String protocolError;
    private int events;

    /** @param startNanos {@link System#nanoTime()} when the request was sent */
    public SseAccumulator(long startNanos) {
        this.startNanos = startNanos;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
        if (!line.startsWith("data:")) {
            return;
        }
        String data = line.substring(5).trim();
        if (data.isEmpty()) {
            return;
        }
        if ("[DONE]".equals(data)) {
            done = true;
            return;
        }
        JsonNode chunk;
        try {
            chunk = JSON.readTree(data);
        } catch (IOException e) {
            if (protocolError == null) {
                protocolError = "stream event is not JSON: " + (data.length() > 200 ? data.substring(0, 200) : data);
            }
            return;
        }
        events++;
        if (chunk.hasNonNull("error")) {
            protocolError = "stream error: " + chunk.path("error").path("message").asText(chunk.path("error").toString());
            return;
        }
        if (model == null && chunk.hasNonNull("model")) {
            model = chunk.path("model").asText();
        }
        JsonNode choice = chunk.path("choices").path(0);
        String text = choice.path("delta").path("content").asText("");
        if (!text.isEmpty()) {
            if (firstTokenNanos < 0) {
                firstTokenNanos = System.nanoTime() - startNanos;
            }
            content.append(text);
        }
        if (choice.hasNonNull("finish_reason")) {
            finishReason = choice.path("finish_reason").asText();
        }
        if (chunk.hasNonNull("usage")) {
            usage = chunk.path("usage");
        }
    }

    @Override
    public void onError(Throwable throwable) {
        // the body future fails with the same error; nothing to add here
    }

    @Override
    public void onComplete() {
        // the finisher reads the state once the body is complete
    }

    public String content() {
        return content.toString();
    }

    public String finishReason() {
        return finishReason;
    }

    public String model() {
        return model;
    }

    /** The usage object of the final usage chunk, or null when the endpoint sent none. */
    public JsonNode usage() {
        return usage;
    }

    /** Nanoseconds from sending to the first content, -1 when no content arrived. */
    public long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** True when the stream ended with {@code data: [DONE]}. */
    public boolean done() {
        return done;
    }

    /** Number of JSON events received. */
    public int events() {
        return events;
    }

    /** A description of the first malformed or error event, or null. */
    public String protocolError() {
        return protocolError;
    }
}
