package llmq.ingest.submit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.DateTimeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import llmq.avro.Priority;

/**
 * Turns the JSON body of {@code POST /v1/requests} into a {@link SubmitRequest}, or reports
 * every problem with the field it concerns. Unknown fields are rejected (a misspelt
 * {@code max_token} should not be silently ignored).
 */
public final class SubmitParser {

    private static final Set<String> FIELDS = Set.of("model", "messages", "priority", "max_tokens", "temperature",
            "top_p", "stop", "seed", "idempotency_key", "conversation_id", "metadata", "not_before", "deadline",
            "callback_url");
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    /** Latest instant a time field may name (epoch millis must fit a long with room to spare). */
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private final int maxMessages;
    private final int maxMetadata;
    private final int maxMessageChars;

    public SubmitParser(int maxMessages, int maxMetadata) {
        this(maxMessages, maxMetadata, Integer.MAX_VALUE);
    }

    /** With a limit on the characters of each message's content. */
    public SubmitParser(int maxMessages, int maxMetadata, int maxMessageChars) {
        this.maxMessages = maxMessages;
        this.maxMetadata = maxMetadata;
        this.maxMessageChars = maxMessageChars;
    }

    public SubmitRequest parse(JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        if (body == null || !body.isObject()) {
            throw new InvalidRequestException("body", "must be a JSON object");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                errors.add(new FieldError(f, "is not a known field"));
            }
        }
        String model = text(body, "model", 200, true, errors);
        List<SubmitRequest.Message> messages = messages(body.get("messages"), errors);
        Priority priority = priority(body.get("priority"), errors);
        Integer maxTokens = integer(body, "max_tokens", 1, 1_000_000, errors);
        Double temperature = number(body, "temperature", 0, 2, errors);
        Double topP = number(body, "top_p", 0, 1, errors);
        List<String> stop = stop(body.get("stop"), errors);
        Long seed = body.hasNonNull("seed") ? longValue(body, "seed", errors) : null;
        String idem = text(body, "idempotency_key", 255, false, errors);
        String conversation = text(body, "conversation_id", 255, false, errors);
        Map<String, String> metadata = metadata(body.get("metadata"), errors);
        Instant notBefore = time(body, "not_before", errors);
        Instant deadline = time(body, "deadline", errors);
        if (notBefore != null && deadline != null && !deadline.isAfter(notBefore)) {
            errors.add(new FieldError("deadline", "must be after not_before"));
        }
        String callback = text(body, "callback_url", 2000, false, errors);
        if (callback != null && !callback.startsWith("http://") && !callback.startsWith("https://")) {
            errors.add(new FieldError("callback_url", "must be an http(s) URL"));
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(errors);
        }
        return new SubmitRequest(model, messages, priority, maxTokens, temperature, topP, stop, seed, idem,
                conversation, metadata, notBefore, deadline, callback, Map.of());
    }

    private static String text(JsonNode body, String field, int max, boolean required, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                errors.add(new FieldError(field, "is required"));
            }
            return null;
        }
        if (!n.isTextual()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        String s = n.asText();
        if (s.isBlank()) {
            errors.add(new FieldError(field, "must not be blank"));
            return null;
        }
        if (s.length() > max) {
            errors.add(new FieldError(field, "must be at most " + max + " characters"));
            return null;
        }
        return s;
    }

    private List<SubmitRequest.Message> messages(JsonNode n, List<FieldError> errors) {
        List<SubmitRequest.Message> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            errors.add(new FieldError("messages", "is required"));
            return out;
        }
        if (!n.isArray() || n.isEmpty()) {
            errors.add(new FieldError("messages", "must be a non-empty array"));
            return out;
        }
        if (n.size() > maxMessages) {
            errors.add(new FieldError("messages", "must hold at most " + maxMessages + " messages"));
            return out;
        }
        for (int i = 0; i < n.size(); i++) {
            JsonNode m = n.get(i);
            String path = "messages[" + i + "]";
            if (!m.isObject()) {
                errors.add(new FieldError(path, "must be an object with role and content"));
                continue;
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                errors.add(new FieldError(path + ".role", "must be one of " + String.join(", ", List.of(
                        "system", "developer", "user", "assistant", "tool"))));
                continue;
            }
            JsonNode content = m.get("content");
            String text = content(content);
            if (text == null) {
                errors.add(new FieldError(path + ".content", "must be a string (or an array of text parts)"));
                continue;
            }
            if (text.length() > maxMessageChars) {
                errors.add(new FieldError(path + ".content", "must be at most " + maxMessageChars + " characters"));
                continue;
            }
            JsonNode name = m.get("name");
            out.add(new SubmitRequest.Message(role.asText(), text, name != null && name.isTextual() ? name.asText() : null));
        }
        return out;
    }

    /** A string, or OpenAI's array of {@code {"type":"text","text":...}} parts joined. */
    static String content(JsonNode content) {
        if (content == null) {
            return null;
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    return null;
                }
                sb.append(part.path("text").asText());
            }
            return sb.toString();
        }
        return null;
    }

    /** A level name (case-insensitive), or a 400 naming {@code field}. */
    public static Priority level(String name, String field) {
        try {
            return Priority.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, "must be one of realtime, high, normal, low");
        }
    }

    /** Parses a priority name, or null when absent. */
    public static Priority priority(JsonNode n, List<FieldError> errors) {
        if (n == null || n.isNull()) {
            return null;
        }
        try {
            return Priority.valueOf(n.asText().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("priority", "must be one of realtime, high, normal, low"));
            return null;
        }
    }

    private static Integer integer(JsonNode body, String field, int min, int max, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            errors.add(new FieldError(field, "must be an integer from " + min + " to " + max));
            return null;
        }
        return n.asInt();
    }

    private static Long longValue(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            errors.add(new FieldError(field, "must be an integer"));
            return null;
        }
        return n.asLong();
    }

    private static Double number(JsonNode body, String field, double min, double max, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber() || n.asDouble() < min || n.asDouble() > max) {
            errors.add(new FieldError(field, "must be a number from " + min + " to " + max));
            return null;
        }
        return n.asDouble();
    }

    private static List<String> stop(JsonNode n, List<FieldError> errors) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
            return out;
        }
        if (!n.isArray() || n.size() > 4) {
            errors.add(new FieldError("stop", "must be a string or an array of at most 4 strings"));
            return out;
        }
        for (JsonNode s : n) {
            if (!s.isTextual()) {
                errors.add(new FieldError("stop", "must be a string or an array of at most 4 strings"));
                return out;
            }
            out.add(s.asText());
        }
        return out;
    }

    private Map<String, String> metadata(JsonNode n, List<FieldError> errors) {
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            errors.add(new FieldError("metadata", "must be an object of string values"));
            return out;
        }
        if (n.size() > maxMetadata) {
            errors.add(new FieldError("metadata", "must hold at most " + maxMetadata + " keys"));
            return out;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual() || e.getKey().length() > 64 || e.getValue().asText().length() > 512) {
                errors.add(new FieldError("metadata." + e.getKey(),
                        "must be a string of at most 512 characters under a key of at most 64"));
                continue;
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static Instant time(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        try {
            Instant t;
            if (n.isIntegralNumber() && n.canConvertToLong()) {
                t = Instant.ofEpochSecond(n.asLong());
            } else if (n.isTextual()) {
                t = Instant.parse(n.asText());
            } else {
                throw new DateTimeException("not a string");
            }
            if (t.isBefore(Instant.EPOCH) || t.isAfter(LATEST)) {
                throw new DateTimeException("out of range");
            }
            return t;
        } catch (DateTimeException e) {
            errors.add(new FieldError(field, "must be an ISO-8601 instant (2026-01-01T12:00:00Z) or epoch seconds"));
            return null;
        }
    }
}
