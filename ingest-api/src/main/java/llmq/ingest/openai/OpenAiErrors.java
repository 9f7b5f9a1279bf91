package llmq.ingest.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import llmq.common.json.Json;

/**
 * OpenAI's error shape, {@code {"error": {"message", "type", "param", "code"}}}, used by every answer
 * of the OpenAI-compatible endpoints ({@code /v1/chat/completions}, {@code /v1/models}) so that the
 * official SDKs raise their usual exceptions. {@code type} follows OpenAI's classes by HTTP status;
 * {@code code} carries llmq's machine-readable error type.
 */
public final class OpenAiErrors {

    private OpenAiErrors() {
    }

    public static ObjectNode body(int status, String message, String param, String code) {
        ObjectNode o = Json.mapper().createObjectNode();
        ObjectNode e = o.putObject("error");
        e.put("message", message);
        e.put("type", type(status));
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        if (code == null) {
            e.putNull("code");
        } else {
            e.put("code", code(status, code));
        }
        return o;
    }

    static String type(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 402 -> "insufficient_quota";
            case 403 -> "permission_error";
            case 429 -> "rate_limit_error";
            case 504 -> "timeout";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    private static String code(int status, String llmqType) {
        return switch (status) {
            case 401 -> "invalid_api_key";
            case 429 -> "rate_limit_exceeded";
            default -> llmqType;
        };
    }
}
