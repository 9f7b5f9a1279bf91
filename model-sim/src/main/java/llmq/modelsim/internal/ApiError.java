package llmq.modelsim.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.common.json.Json;

/** A request answered with an OpenAI-shaped error ({@code {"error":{message,type,param,code}}}). */
final class ApiError extends Exception {
    private static final long serialVersionUID = 1L;

    static final String INVALID_REQUEST = "invalid_request_error";

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

    ApiError(int status, String message, String type, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, message, INVALID_REQUEST, param, code);
    }

    static ApiError missing(String param) {
        return invalid("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
    }

    static ApiError invalidType(String param, String expected, String got) {
        return invalid("Invalid type for '" + param + "': expected " + expected + ", but got " + got + " instead.",
                param, "invalid_type");
    }

    static ApiError notFound(String message) {
        return new ApiError(404, message, INVALID_REQUEST, null, null);
    }

    static ApiError methodNotAllowed(String method, String path, String allow) {
        return new ApiError(405, "Method " + method + " is not allowed on " + path + ".", INVALID_REQUEST, null,
                "method_not_allowed").header("Allow", allow);
    }

    ApiError header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    int status() {
        return status;
    }

    Map<String, String> headers() {
        return headers;
    }

    ObjectNode body() {
        ObjectNode root = Json.mapper().createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
