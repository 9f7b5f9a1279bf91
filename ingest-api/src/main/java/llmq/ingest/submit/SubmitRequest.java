package llmq.ingest.submit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;

/**
 * A validated submission, independent of how it arrived (native API, OpenAI-compatible API,
 * batch line). {@code customId} is the caller's id of a batch line.
 */
public record SubmitRequest(String model, List<Message> messages, Priority priority, Integer maxTokens,
                            Double temperature, Double topP, List<String> stop, Long seed, String idempotencyKey,
                            String conversationId, Map<String, String> metadata, Instant notBefore, Instant deadline,
                            String callbackUrl, Map<String, String> extra, String customId) {

    /** One chat message. */
    public record Message(String role, String content, String name) {
    }

    /** Without a batch line id. */
    public SubmitRequest(String model, List<Message> messages, Priority priority, Integer maxTokens,
                         Double temperature, Double topP, List<String> stop, Long seed, String idempotencyKey,
                         String conversationId, Map<String, String> metadata, Instant notBefore, Instant deadline,
                         String callbackUrl, Map<String, String> extra) {
        this(model, messages, priority, maxTokens, temperature, topP, stop, seed, idempotencyKey, conversationId,
                metadata, notBefore, deadline, callbackUrl, extra, null);
    }

    /** A copy with another idempotency key. */
    public SubmitRequest withIdempotencyKey(String key) {
        return new SubmitRequest(model, messages, priority, maxTokens, temperature, topP, stop, seed, key,
                conversationId, metadata, notBefore, deadline, callbackUrl, extra, customId);
    }

    /** A copy with another requested level. */
    public SubmitRequest withPriority(Priority p) {
        return new SubmitRequest(model, messages, p, maxTokens, temperature, topP, stop, seed, idempotencyKey,
                conversationId, metadata, notBefore, deadline, callbackUrl, extra, customId);
    }

    /** A copy carrying a batch line's id. */
    public SubmitRequest withCustomId(String id) {
        return new SubmitRequest(model, messages, priority, maxTokens, temperature, topP, stop, seed, idempotencyKey,
                conversationId, metadata, notBefore, deadline, callbackUrl, extra, id);
    }

    /** Characters of all message contents (for the token estimate). */
    public long promptChars() {
        long n = 0;
        for (Message m : messages) {
            n += m.content().length();
        }
        return n;
    }
}
