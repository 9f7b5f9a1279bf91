package llmq.modelsim.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.common.http.AdminServer;
import llmq.common.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Request reading, JSON answers and bearer-key checks shared by the simulator's handlers. */
final class HttpIo {

    private static final Logger LOG = LoggerFactory.getLogger(HttpIo.class);

    /** Larger bodies are refused: no chat request is this big, and memory stays bounded. */
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;
    static final String JSON = "application/json";

    /** A handler that may refuse the request with an {@link ApiError}. */
    @FunctionalInterface
    interface ApiHandler {
        void handle(HttpExchange exchange) throws IOException, ApiError;
    }

    private HttpIo() {
    }

    /** Wraps {@code handler} so that errors become OpenAI-shaped answers and never leak an exchange. */
    static HttpHandler guarded(ApiHandler handler) {
        return exchange -> {
            try {
                handler.handle(exchange);
            } catch (ApiError e) {
                sendError(exchange, e);
            } catch (IOException e) {
                LOG.debug("I/O error answering {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                exchange.close();
            } catch (RuntimeException e) {
                LOG.error("failed answering {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                try {
                    sendError(exchange, new ApiError(500, "The simulator failed: " + e, "server_error", null, null));
                } catch (IOException | RuntimeException ignored) {
                    exchange.close();
                }
            }
        };
    }

    static byte[] readBody(HttpExchange exchange) throws IOException, ApiError {
        try (InputStream in = exchange.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (out.size() > MAX_BODY_BYTES) {
                    throw new ApiError(413, "The request body is larger than " + MAX_BODY_BYTES + " bytes.",
                            ApiError.INVALID_REQUEST, null, "request_too_large");
                }
            }
            return out.toByteArray();
        }
    }

    static void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        AdminServer.respond(exchange, status, JSON, Json.mapper().writeValueAsString(body));
    }

    static void sendError(HttpExchange exchange, ApiError e) throws IOException {
        e.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        sendJson(exchange, e.status(), e.body());
    }

    /**
     * Requires {@code Authorization: Bearer <apiKey>} when a key is configured. The given key is
     * never echoed, so it cannot end up in a client's logs.
     */
    static void requireApiKey(HttpExchange exchange, String apiKey) throws ApiError {
        if (apiKey == null) {
            return;
        }
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        if (auth == null || auth.isBlank()) {
            throw new ApiError(401, "You didn't provide an API key. You need to provide your API key in an "
                    + "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    ApiError.INVALID_REQUEST, null, null);
        }
        String given = auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), apiKey.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "Incorrect API key provided.", ApiError.INVALID_REQUEST, null, "invalid_api_key");
        }
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> out = new LinkedHashMap<>();
        String q = uri.getRawQuery();
        if (q == null || q.isEmpty()) {
            return out;
        }
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return out;
    }
}
