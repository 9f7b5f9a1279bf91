package llmq.modelsim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import llmq.common.json.Json;
import llmq.modelsim.tokens.TokenModel;

/**
 * The parts of an OpenAI chat completion request the simulator acts on, validated the way
 * OpenAI does so that clients see the same 400s they would in production.
 *
 * @param maxTokens {@code max_completion_tokens}, else {@code max_tokens}, else null
 */
record ChatRequest(String model, List<TokenModel.Message> messages, Integer maxTokens, boolean stream,
        boolean includeUsage) {

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    static ChatRequest parse(byte[] body) throws ApiError {
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (IOException e) {
            throw ApiError.invalid("We could not parse the JSON body of your request. The API expects a JSON "
                    + "payload, but what was sent was not valid JSON.", null, null);
        }
        if (root == null || !root.isObject()) {
            throw ApiError.invalid("The request body must be a JSON object.", null, null);
        }
        String model = model(root.get("model"));
        List<TokenModel.Message> messages = messages(root.get("messages"));
        Integer maxTokens = positiveInt(root, "max_completion_tokens");
        if (maxTokens == null) {
            maxTokens = positiveInt(root, "max_tokens");
        }
        boolean stream = bool(root, "stream", "stream");
        boolean includeUsage = false;
        JsonNode options = root.get("stream_options");
        if (present(options)) {
            if (!stream) {
                throw ApiError.invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                        "stream_options", null);
            }
            if (!options.isObject()) {
                throw ApiError.invalidType("stream_options", "an object", kind(options));
            }
            includeUsage = bool(options, "include_usage", "stream_options.include_usage");
        }
        JsonNode temperature = root.get("temperature");
        if (present(temperature)) {
            if (!temperature.isNumber()) {
                throw ApiError.invalidType("temperature", "a decimal", kind(temperature));
            }
            if (temperature.asDouble() < 0 || temperature.asDouble() > 2) {
                throw ApiError.invalid("Invalid 'temperature': expected a value between 0 and 2, but got "
                        + temperature.asText() + " instead.", "temperature", "invalid_value");
            }
        }
        JsonNode n = root.get("n");
        if (present(n) && !(n.isIntegralNumber() && n.asInt() == 1)) {
            throw ApiError.invalid("The simulator only supports n = 1.", "n", "unsupported_value");
        }
        return new ChatRequest(model, messages, maxTokens, stream, includeUsage);
    }

    /** The {@code model} of a body that may be invalid, for the audit of a refused call. */
    static String modelOrNull(byte[] body) {
        try {
            JsonNode m = Json.mapper().readTree(body).get("model");
            return m != null && m.isTextual() ? m.asText() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String model(JsonNode node) throws ApiError {
        if (!present(node)) {
            throw ApiError.missing("model");
        }
        if (!node.isTextual()) {
            throw ApiError.invalidType("model", "a string", kind(node));
        }
        if (node.asText().isBlank()) {
            throw ApiError.invalid("Invalid 'model': empty string. Expected a string with minimum length 1.",
                    "model", "empty_string");
        }
        return node.asText();
    }

    private static List<TokenModel.Message> messages(JsonNode node) throws ApiError {
        if (!present(node)) {
            throw ApiError.missing("messages");
        }
        if (!node.isArray()) {
            throw ApiError.invalidType("messages", "an array", kind(node));
        }
        if (node.isEmpty()) {
            throw ApiError.invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                    + "but got an empty array instead.", "messages", "empty_array");
        }
        List<TokenModel.Message> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = node.get(i);
            if (!m.isObject()) {
                throw ApiError.invalidType(at, "an object", kind(m));
            }
            JsonNode role = m.get("role");
            if (!present(role)) {
                throw ApiError.missing(at + ".role");
            }
            if (!role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiError.invalid("Invalid value: '" + role.asText() + "'. Supported values are: "
                        + "'system', 'developer', 'user', 'assistant', 'tool' and 'function'.", at + ".role",
                        "invalid_value");
            }
            out.add(new TokenModel.Message(role.asText(), content(m.get("content"), role.asText(), at)));
        }
        return out;
    }

    /** Text content; array content is its text parts concatenated, other parts ignored. */
    private static String content(JsonNode node, String role, String at) throws ApiError {
        String param = at + ".content";
        if (!present(node)) {
            if ("assistant".equals(role)) {
                return "";
            }
            throw ApiError.missing(param);
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (!node.isArray()) {
            throw ApiError.invalidType(param, "one of a string or array of objects", kind(node));
        }
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < node.size(); j++) {
            JsonNode part = node.get(j);
            if (!part.isObject()) {
                throw ApiError.invalidType(param + "[" + j + "]", "an object", kind(part));
            }
            if ("text".equals(part.path("type").asText())) {
                JsonNode t = part.get("text");
                if (t == null || !t.isTextual()) {
                    throw ApiError.missing(param + "[" + j + "].text");
                }
                text.append(t.asText());
            }
        }
        return text.toString();
    }

    private static Integer positiveInt(JsonNode root, String param) throws ApiError {
        JsonNode node = root.get(param);
        if (!present(node)) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw ApiError.invalidType(param, "an integer", kind(node));
        }
        if (node.asInt() < 1) {
            throw ApiError.invalid("Invalid '" + param + "': integer below minimum value. Expected a value >= 1, "
                    + "but got " + node.asInt() + " instead.", param, "integer_below_min_value");
        }
        return node.asInt();
    }

    private static boolean bool(JsonNode parent, String field, String param) throws ApiError {
        JsonNode node = parent.get(field);
        if (!present(node)) {
            return false;
        }
        if (!node.isBoolean()) {
            throw ApiError.invalidType(param, "a boolean", kind(node));
        }
        return node.asBoolean();
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    private static String kind(JsonNode node) {
        switch (node.getNodeType()) {
            case STRING: return "a string";
            case NUMBER: return node.isIntegralNumber() ? "an integer" : "a decimal";
            case BOOLEAN: return "a boolean";
            case ARRAY: return "an array";
            case OBJECT: return "an object";
            default: return "null";
        }
    }
}
