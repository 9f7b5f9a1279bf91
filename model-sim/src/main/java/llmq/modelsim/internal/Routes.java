package llmq.modelsim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import llmq.common.config.Settings;
import llmq.common.json.Json;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.FaultSettings;
import llmq.modelsim.faults.Faults;
import llmq.modelsim.tokens.TokenModel;

/**
 * Wires the simulator's endpoints onto an {@link HttpServer}: the OpenAI API under {@code /v1},
 * {@code /health}, {@code /admin/faults} and {@code /audit}.
 */
public final class Routes {

    /** Every {@code /v1/models} entry claims this creation time, so listings are reproducible. */
    static final long MODEL_CREATED = 1_700_000_000L;
    static final int DEFAULT_AUDIT_LIMIT = 1_000;
    static final int MAX_AUDIT_LIMIT = 10_000;
    private static final Set<String> FAULT_FIELDS = Set.of("rateLimitRate", "retryAfter", "serverErrorRate",
            "serverErrorCodes", "timeoutRate", "hang");

    private final ModelSimConfig config;
    private final Faults faults;
    private final Audit audit;

    private Routes(ModelSimConfig config, Faults faults, Audit audit) {
        this.config = config;
        this.faults = faults;
        this.audit = audit;
    }

    /** Installs every endpoint on {@code http}. */
    public static void install(HttpServer http, ModelSimConfig config, TokenModel tokens, Faults faults, Audit audit,
            InFlight inFlight, Clock clock) {
        Routes r = new Routes(config, faults, audit);
        http.createContext(ChatCompletions.PATH, new ChatCompletions(config, tokens, faults, audit, inFlight, clock));
        http.createContext("/v1/models", HttpIo.guarded(r::models));
        http.createContext("/health", HttpIo.guarded(r::health));
        http.createContext("/admin/faults", HttpIo.guarded(r::faults));
        http.createContext("/audit", HttpIo.guarded(r::audit));
        http.createContext("/", HttpIo.guarded(ex -> {
            throw ApiError.notFound("Invalid URL (" + ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + ")");
        }));
    }

    private void models(HttpExchange ex) throws IOException, ApiError {
        requireGet(ex, "/v1/models");
        HttpIo.requireApiKey(ex, config.apiKey());
        String path = stripSlash(ex.getRequestURI().getPath());
        if ("/v1/models".equals(path)) {
            ObjectNode root = Json.mapper().createObjectNode();
            root.put("object", "list");
            ArrayNode data = root.putArray("data");
            config.listedModels().forEach(id -> model(data.addObject(), id));
            HttpIo.sendJson(ex, 200, root);
            return;
        }
        String id = path.substring("/v1/models/".length());
        if (!config.listedModels().contains(id) && !(config.models().isEmpty() && !id.isEmpty())) {
            throw new ApiError(404, "The model '" + id + "' does not exist", ApiError.INVALID_REQUEST, "model",
                    "model_not_found");
        }
        HttpIo.sendJson(ex, 200, model(Json.mapper().createObjectNode(), id));
    }

    private static ObjectNode model(ObjectNode node, String id) {
        node.put("id", id);
        node.put("object", "model");
        node.put("created", MODEL_CREATED);
        node.put("owned_by", "llmq-sim");
        return node;
    }

    private void health(HttpExchange ex) throws IOException, ApiError {
        exact(ex, "/health");
        requireGet(ex, "/health");
        HttpIo.sendJson(ex, 200, Map.of("status", "UP"));
    }

    private void faults(HttpExchange ex) throws IOException, ApiError {
        exact(ex, "/admin/faults");
        switch (ex.getRequestMethod()) {
            case "GET":
                HttpIo.sendJson(ex, 200, faultsJson(faults.current()));
                return;
            case "POST":
            case "PUT":
                JsonNode body;
                try {
                    body = Json.mapper().readTree(HttpIo.readBody(ex));
                } catch (IOException e) {
                    throw ApiError.invalid("The body must be a JSON object of fault settings.", null, null);
                }
                if (body == null || !body.isObject()) {
                    throw ApiError.invalid("The body must be a JSON object of fault settings.", null, null);
                }
                FaultSettings next = applyFaults(faults.current(), body);
                faults.set(next);
                HttpIo.sendJson(ex, 200, faultsJson(next));
                return;
            default:
                throw ApiError.methodNotAllowed(ex.getRequestMethod(), "/admin/faults", "GET, POST, PUT");
        }
    }

    static ObjectNode faultsJson(FaultSettings s) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("rateLimitRate", s.rateLimitRate());
        root.put("retryAfter", s.retryAfter().toMillis() + "ms");
        root.put("serverErrorRate", s.serverErrorRate());
        ArrayNode codes = root.putArray("serverErrorCodes");
        s.serverErrorCodes().forEach(codes::add);
        root.put("timeoutRate", s.timeoutRate());
        root.put("hang", s.hang().toMillis() + "ms");
        return root;
    }

    /** Applies the fields present in {@code body} to {@code current}; durations as "2s" or milliseconds. */
    static FaultSettings applyFaults(FaultSettings current, JsonNode body) throws ApiError {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FAULT_FIELDS.contains(field)) {
                throw ApiError.invalid("Unknown fault setting '" + field + "'; known: " + FAULT_FIELDS + ".", field,
                        "unknown_parameter");
            }
        }
        FaultSettings s = current;
        try {
            if (body.has("rateLimitRate")) {
                s = s.withRateLimitRate(number(body, "rateLimitRate"));
            }
            if (body.has("serverErrorRate")) {
                s = s.withServerErrorRate(number(body, "serverErrorRate"));
            }
            if (body.has("timeoutRate")) {
                s = s.withTimeoutRate(number(body, "timeoutRate"));
            }
            if (body.has("retryAfter")) {
                s = s.withRetryAfter(duration(body, "retryAfter"));
            }
            if (body.has("hang")) {
                s = s.withHang(duration(body, "hang"));
            }
            if (body.has("serverErrorCodes")) {
                JsonNode codes = body.get("serverErrorCodes");
                if (!codes.isArray()) {
                    throw ApiError.invalidType("serverErrorCodes", "an array", codes.getNodeType().toString());
                }
                List<Integer> list = new ArrayList<>();
                for (JsonNode c : codes) {
                    if (!c.isIntegralNumber()) {
                        throw ApiError.invalidType("serverErrorCodes", "an array of integers", "something else");
                    }
                    list.add(c.asInt());
                }
                s = s.withServerErrorCodes(list);
            }
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("Invalid fault settings: " + e.getMessage(), null, "invalid_value");
        }
        return s;
    }

    private static double number(JsonNode body, String field) throws ApiError {
        JsonNode n = body.get(field);
        if (!n.isNumber()) {
            throw ApiError.invalidType(field, "a number", n.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return n.asDouble();
    }

    private static Duration duration(JsonNode body, String field) throws ApiError {
        JsonNode n = body.get(field);
        if (n.isIntegralNumber()) {
            return Duration.ofMillis(n.asLong());
        }
        try {
            if (n.isTextual()) {
                return Settings.parseDuration(n.asText());
            }
        } catch (RuntimeException e) {
            // fall through to the error below
        }
        throw ApiError.invalid("Invalid '" + field + "': expected milliseconds or a duration like 250ms, 2s or 1m.",
                field, "invalid_value");
    }

    private void audit(HttpExchange ex) throws IOException, ApiError {
        String path = stripSlash(ex.getRequestURI().getPath());
        if ("/audit/summary".equals(path)) {
            requireGet(ex, "/audit/summary");
            HttpIo.sendJson(ex, 200, audit.summary());
            return;
        }
        exact(ex, "/audit");
        switch (ex.getRequestMethod()) {
            case "GET":
                Map<String, String> q = HttpIo.query(ex.getRequestURI());
                long since = longParam(q, "since", 0);
                long limit = longParam(q, "limit", DEFAULT_AUDIT_LIMIT);
                if (since < 0 || limit < 1 || limit > MAX_AUDIT_LIMIT) {
                    throw ApiError.invalid("'since' must be >= 0 and 'limit' between 1 and " + MAX_AUDIT_LIMIT + ".",
                            since < 0 ? "since" : "limit", "invalid_value");
                }
                ObjectNode root = Json.mapper().createObjectNode();
                root.set("entries", Json.mapper().valueToTree(audit.entriesSince(since, (int) limit)));
                root.put("lastSeq", audit.lastSeq());
                HttpIo.sendJson(ex, 200, root);
                return;
            case "DELETE":
                ex.getRequestBody().close();
                audit.reset();
                ex.sendResponseHeaders(204, -1);
                ex.close();
                return;
            default:
                throw ApiError.methodNotAllowed(ex.getRequestMethod(), "/audit", "GET, DELETE");
        }
    }

    private static long longParam(Map<String, String> q, String name, long def) throws ApiError {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return def;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.invalid("'" + name + "' must be an integer.", name, "invalid_type");
        }
    }

    private static void requireGet(HttpExchange ex, String path) throws ApiError {
        if (!"GET".equals(ex.getRequestMethod())) {
            throw ApiError.methodNotAllowed(ex.getRequestMethod(), path, "GET");
        }
    }

    private static void exact(HttpExchange ex, String path) throws ApiError {
        if (!path.equals(stripSlash(ex.getRequestURI().getPath()))) {
            throw ApiError.notFound("Invalid URL (" + ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + ")");
        }
    }

    private static String stripSlash(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }
}
