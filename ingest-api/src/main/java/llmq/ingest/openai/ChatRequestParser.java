package llmq.ingest.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import llmq.common.json.Json;
import llmq.ingest.submit.FieldError;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.SubmitRequest;

/**
 * Turns the body of OpenAI's {@code POST /v1/chat/completions} into a {@link SubmitRequest}. The fields
 * llmq understands are validated as in the native API (errors name the OpenAI parameter); every other
 * parameter ({@code user}, {@code response_format}, {@code tools}, ...) is passed to the model endpoint
 * unchanged, as its JSON text. llmq's own additions: the level from the {@code X-LLMQ-Priority} header
 * or a {@code priority} body field, and an idempotency key from the {@code Idempotency-Key} header or an
 * {@code idempotency_key} body field. Only {@code n = 1} is supported.
 */
public final class ChatRequestParser {

    /** A parsed chat completion request. */
    public record ChatRequest(SubmitRequest request, boolean stream, boolean includeUsage) {
    }

    /** Parameters mapped onto llmq's request (the rest pass through). */
    private static final Set<String> MAPPED = Set.of("model", "messages", "temperature", "top_p", "stop", "seed",
            "metadata", "max_tokens", "max_completion_tokens", "priority", "idempotency_key", "stream",
            "stream_options", "n", "callback_url", "not_before", "deadline", "conversation_id");

    private final SubmitParser parser;

    public ChatRequestParser(SubmitParser parser) {
        this.parser = parser;
    }

    public ChatRequest parse(JsonNode body, String priorityHeader, String idempotencyHeader) {
        if (body == null || !body.isObject()) {
            throw new InvalidRequestException("body", "must be a JSON object");
        }
        List<FieldError> errors = new ArrayList<>();
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asInt() == 1 && n.canConvertToInt())) {
            errors.add(new FieldError("n", "only n = 1 is supported"));
        }
        boolean stream = flag(body.get("stream"), "stream", errors);
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) {
                errors.add(new FieldError("stream_options", "must be an object"));
            } else {
                includeUsage = flag(options.get("include_usage"), "stream_options.include_usage", errors);
            }
        }
        ObjectNode nativeBody = Json.mapper().createObjectNode();
        for (String f : List.of("model", "messages", "temperature", "top_p", "stop", "seed", "metadata", "callback_url",
                "not_before", "deadline", "conversation_id")) {
            if (body.has(f) && !body.get(f).isNull()) {
                nativeBody.set(f, body.get(f));
            }
        }
        JsonNode maxTokens = body.hasNonNull("max_completion_tokens") ? body.get("max_completion_tokens") : body.get("max_tokens");
        if (maxTokens != null && !maxTokens.isNull()) {
            nativeBody.set("max_tokens", maxTokens);
        }
        String priority = priorityHeader != null && !priorityHeader.isBlank() ? priorityHeader : null;
        if (priority != null) {
            nativeBody.put("priority", priority);
        } else if (body.hasNonNull("priority")) {
            nativeBody.set("priority", body.get("priority"));
        }
        if (idempotencyHeader != null && !idempotencyHeader.isBlank()) {
            nativeBody.put("idempotency_key", idempotencyHeader);
        } else if (body.hasNonNull("idempotency_key")) {
            nativeBody.set("idempotency_key", body.get("idempotency_key"));
        }
        SubmitRequest parsed;
        try {
            parsed = parser.parse(nativeBody);
        } catch (InvalidRequestException e) {
            List<FieldError> all = new ArrayList<>(errors);
            for (FieldError fe : e.errors()) {
                all.add(fe.field().equals("max_tokens") && body.hasNonNull("max_completion_tokens")
                        ? new FieldError("max_completion_tokens", fe.message()) : fe);
            }
            throw new InvalidRequestException(all);
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(errors);
        }
        Map<String, String> extra = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!MAPPED.contains(f.getKey()) && !f.getValue().isNull()) {
                extra.put(f.getKey(), f.getValue().toString());
            }
        }
        SubmitRequest r = new SubmitRequest(parsed.model(), parsed.messages(), parsed.priority(), parsed.maxTokens(),
                parsed.temperature(), parsed.topP(), parsed.stop(), parsed.seed(), parsed.idempotencyKey(),
                parsed.conversationId(), parsed.metadata(), parsed.notBefore(), parsed.deadline(), parsed.callbackUrl(),
                extra);
        return new ChatRequest(r, stream, includeUsage);
    }

    private static boolean flag(JsonNode n, String field, List<FieldError> errors) {
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            errors.add(new FieldError(field, "must be true or false"));
            return false;
        }
        return n.asBoolean();
    }
}
