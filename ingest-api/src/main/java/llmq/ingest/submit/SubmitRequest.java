package llmq.ingest.submit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;

/**
 * A validated submission, independent of how it arrived (native API, OpenAI-compatible API,
 * batch line).
 */
public record SubmitRequest(String model, List<Message> messages, Priority priority, Integer maxTokens,
                            Double temperature, Double topP, List<String> stop, Long seed, String idempotencyKey,
                            String conversationId, Map<String, String> metadata, Instant notBefore, Instant deadline,
                            String callbackUrl, Map<String, String> extra) {

    /** One chat message. */
    public record Message(String role, String content, String name) {
    }
}
