package llmq.router.classify;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestParams;
import llmq.common.json.Json;

/**
 * Reads a JSON request from the public {@code llm.requests} topic, for producers without Avro
 * (kcat, scripts). Fields as in the HTTP API plus {@code tenant_id}:
 * {@code {"tenant_id","model","messages":[{"role","content"}],"priority","max_tokens",
 * "temperature","top_p","stop","seed","idempotency_key","conversation_id","metadata",
 * "not_before","deadline","callback_url","id","submitted_at"}}. Unknown fields are ignored; a
 * field of the wrong type is an error naming it. A record without {@code id} gets one derived
 * from its topic, partition and offset, so reprocessing it gives the same id.
 */
public final class JsonRequestDecoder {

    /** The record is JSON but not a request. */
    public static final class BadJson extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadJson(String message) {
            super(message);
        }
    }

    private JsonRequestDecoder() {
    }

    /** True when the first non-blank byte opens a JSON object. */
    public static boolean looksLikeJson(byte[] value) {
        for (byte b : value) {
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return false;
    }

    public static LlmRequest decode(byte[] value, String topic, int partition, long offset, long timestamp) {
        JsonNode n;
        try {
            n = Json.mapper().readTree(value);
        } catch (IOException e) {
            throw new BadJson("not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (n == null || !n.isObject()) {
            throw new BadJson("not a JSON object");
        }
        String id = text(n, "id");
        if (id == null) {
            id = UUID.nameUUIDFromBytes((topic + "/" + partition + "/" + offset).getBytes(StandardCharsets.UTF_8)).toString();
        }
        RequestParams params = RequestParams.newBuilder()
                .setMaxTokens(n.hasNonNull("max_tokens") ? integer(n, "max_tokens") : null)
                .setTemperature(n.hasNonNull("temperature") ? number(n, "temperature") : null)
                .setTopP(n.hasNonNull("top_p") ? number(n, "top_p") : null)
                .setSeed(n.hasNonNull("seed") ? (long) integer(n, "seed") : null)
                .setStop(stop(n.get("stop")))
                .build();
        Instant submitted = time(n, "submitted_at");
        return LlmRequest.newBuilder()
                .setId(id)
                // missing required fields stay blank, so validation names them
                .setTenantId(orBlank(text(n, "tenant_id")))
                .setModel(orBlank(text(n, "model")))
                .setMessages(messages(n.get("messages")))
                .setParams(params)
                .setPriority(priority(n.get("priority")))
                .setIdempotencyKey(text(n, "idempotency_key"))
                .setConversationId(text(n, "conversation_id"))
                .setMetadata(metadata(n.get("metadata")))
                .setSubmittedAt(submitted != null ? submitted : Instant.ofEpochMilli(timestamp))
                .setNotBefore(time(n, "not_before"))
                .setDeadline(time(n, "deadline"))
                .setCallbackUrl(text(n, "callback_url"))
                .setSource("kafka")
                .build();
    }

    private static String orBlank(String s) {
        return s == null ? "" : s;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new BadJson(field + ": must be a string");
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new BadJson(field + ": must be an integer");
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (!v.isNumber()) {
            throw new BadJson(field + ": must be a number");
        }
        return v.asDouble();
    }

    private static List<String> stop(JsonNode v) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            v.forEach(s -> out.add(s.asText()));
        } else {
            throw new BadJson("stop: must be a string or an array of strings");
        }
        return out;
    }

    private static Priority priority(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        try {
            return Priority.valueOf(v.asText().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadJson("priority: must be one of realtime, high, normal, low");
        }
    }

    private static List<ChatMessage> messages(JsonNode v) {
        List<ChatMessage> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw new BadJson("messages: must be an array");
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode m = v.get(i);
            if (!m.isObject() || !m.path("content").isTextual()) {
                throw new BadJson("messages[" + i + "]: must be an object with role and a string content");
            }
            out.add(new ChatMessage(m.path("role").asText(null), m.path("content").asText(),
                    m.path("name").isTextual() ? m.path("name").asText() : null));
        }
        return out;
    }

    private static Map<String, String> metadata(JsonNode v) {
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isObject()) {
            throw new BadJson("metadata: must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static Instant time(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        try {
            return v.isIntegralNumber() ? Instant.ofEpochSecond(v.asLong()) : Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw new BadJson(field + ": must be an ISO-8601 instant or epoch seconds");
        }
    }
}
