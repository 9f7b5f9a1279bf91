package llmq.schemas.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;

/**
 * The rules an {@code LlmRequest} must meet wherever it enters (HTTP, the public Kafka topic, a
 * replay): who, which model, what messages, within which limits. Returns every problem, each
 * naming its field, so callers can answer 400 or dead-letter with the reason.
 */
public final class RequestValidation {

    /** Roles a chat message may have. */
    public static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    /** Limits applied to a request. */
    public record Limits(int maxMessages, int maxMetadata, int maxModelLength) {
        public static Limits defaults() {
            return new Limits(1000, 50, 200);
        }
    }

    /** One problem: the field and what is wrong. */
    public record Problem(String field, String message) {
        @Override
        public String toString() {
            return field + ": " + message;
        }
    }

    private RequestValidation() {
    }

    public static List<Problem> problems(LlmRequest r, Limits limits) {
        List<Problem> out = new ArrayList<>();
        if (blank(r.getId())) {
            out.add(new Problem("id", "is required"));
        }
        if (blank(r.getTenantId())) {
            out.add(new Problem("tenant_id", "is required"));
        }
        if (blank(r.getModel())) {
            out.add(new Problem("model", "is required"));
        } else if (r.getModel().length() > limits.maxModelLength()) {
            out.add(new Problem("model", "must be at most " + limits.maxModelLength() + " characters"));
        }
        List<ChatMessage> messages = r.getMessages();
        if (messages == null || messages.isEmpty()) {
            out.add(new Problem("messages", "is required (a non-empty array)"));
        } else if (messages.size() > limits.maxMessages()) {
            out.add(new Problem("messages", "must hold at most " + limits.maxMessages() + " messages"));
        } else {
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                if (m.getRole() == null || !ROLES.contains(m.getRole())) {
                    out.add(new Problem("messages[" + i + "].role", "must be one of system, developer, user, assistant, tool"));
                }
                if (m.getContent() == null) {
                    out.add(new Problem("messages[" + i + "].content", "is required"));
                }
            }
        }
        if (r.getMetadata() != null && r.getMetadata().size() > limits.maxMetadata()) {
            out.add(new Problem("metadata", "must hold at most " + limits.maxMetadata() + " keys"));
        }
        if (r.getParams() != null && r.getParams().getMaxTokens() != null && r.getParams().getMaxTokens() < 1) {
            out.add(new Problem("max_tokens", "must be at least 1"));
        }
        if (r.getNotBefore() != null && r.getDeadline() != null && !r.getDeadline().isAfter(r.getNotBefore())) {
            out.add(new Problem("deadline", "must be after not_before"));
        }
        return out;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
