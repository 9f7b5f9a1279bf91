package llmq.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.compat.Compatibility;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry endpoint for development and tests, so that llmq's
 * serdes and external Avro producers (Confluent's own serializers) work without a separate
 * registry server. Avro only. Schemas live in a compacted Kafka topic and survive restarts.
 *
 * <p>Routes (Confluent REST API): {@code GET /subjects}, {@code GET /subjects/{s}/versions},
 * {@code GET /subjects/{s}/versions/{v|latest}[/schema]}, {@code POST /subjects/{s}/versions},
 * {@code POST /subjects/{s}} (lookup), {@code GET /schemas/ids/{id}[/versions|/schema]},
 * {@code GET /schemas/types}, {@code POST /compatibility/subjects/{s}/versions/{v|latest}},
 * {@code GET|PUT /config[/{s}]}, {@code DELETE /config/{s}}. Errors use Confluent's
 * {@code {"error_code", "message"}} shape and codes (40401 subject not found, 40402 version
 * not found, 40403 schema not found, 409 incompatible, 42201 invalid schema, 42202 invalid
 * version, 42203 invalid compatibility level).
 */
public final class RegistryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    static {
        // TCP_NODELAY for the JDK server (read once, when the first HttpServer of the JVM is created)
        llmq.common.lifecycle.JvmDefaults.apply();
    }

    private final RegistryConfig config;
    private final RegistryStore store;
    private final HttpServer http;
    private final ExecutorService executor;

    private RegistryServer(RegistryConfig config, RegistryStore store, HttpServer http, ExecutorService executor) {
        this.config = config;
        this.store = store;
        this.http = http;
        this.executor = executor;
    }

    /** Loads the registry topic and starts serving. */
    public static RegistryServer start(RegistryConfig config, KafkaConfig kafka) throws Exception {
        RegistryStore store = new RegistryStore(kafka, config.topic());
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
        } catch (IOException e) {
            store.close();
            throw new IllegalStateException("schema registry cannot listen on " + config.host() + ":" + config.port()
                    + " (" + e.getMessage() + ")", e);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "llmq-registry-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(pool);
        RegistryServer server = new RegistryServer(config, store, http, pool);
        http.createContext("/", server::handle);
        http.start();
        LOG.info("schema registry listening on {}", server.url());
        return server;
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-registry", args, (Settings s) -> start(RegistryConfig.from(s), KafkaConfig.from(s)));
    }

    /** Base URL clients use, e.g. {@code http://127.0.0.1:8081}. */
    public String url() {
        return "http://" + config.host() + ":" + port();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** An error answered in Confluent's shape. */
    static final class RegistryError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final int code;

        RegistryError(int status, int code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String method = ex.getRequestMethod();
            String[] p = segments(ex.getRequestURI().getRawPath());
            JsonNode reply = route(method, p, ex);
            send(ex, 200, reply);
        } catch (RegistryError e) {
            send(ex, e.status, JSON.createObjectNode().put("error_code", e.code).put("message", e.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("registry request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            send(ex, 500, JSON.createObjectNode().put("error_code", 50001).put("message", "error in the backend store: " + e.getMessage()));
        }
    }

    private JsonNode route(String method, String[] p, HttpExchange ex) throws IOException {
        if (p.length == 0) {
            return JSON.createObjectNode();
        }
        switch (p[0]) {
            case "subjects":
                if (p.length == 1 && "GET".equals(method)) {
                    ArrayNode a = JSON.createArrayNode();
                    store.read(RegistryState::subjects).forEach(a::add);
                    return a;
                }
                if (p.length == 2 && "POST".equals(method)) {
                    return lookup(p[1], body(ex));
                }
                if (p.length == 3 && "versions".equals(p[2]) && "GET".equals(method)) {
                    List<RegistryState.Version> versions = store.read(s -> s.versions(p[1]));
                    if (versions.isEmpty()) {
                        throw subjectNotFound(p[1]);
                    }
                    ArrayNode a = JSON.createArrayNode();
                    versions.forEach(v -> a.add(v.version()));
                    return a;
                }
                if (p.length == 3 && "versions".equals(p[2]) && "POST".equals(method)) {
                    return register(p[1], body(ex));
                }
                if (p.length >= 4 && "versions".equals(p[2]) && "GET".equals(method)) {
                    RegistryState.Version v = version(p[1], p[3]);
                    if (p.length == 5 && "schema".equals(p[4])) {
                        return JSON.readTree(v.schema().toString());
                    }
                    return describe(v);
                }
                break;
            case "schemas":
                if (p.length == 2 && "types".equals(p[1]) && "GET".equals(method)) {
                    return JSON.createArrayNode().add("AVRO");
                }
                if (p.length >= 3 && "ids".equals(p[1]) && "GET".equals(method)) {
                    int id = parseInt(p[2], 40403, "schema id");
                    Schema schema = store.read(s -> s.schema(id))
                            .orElseThrow(() -> new RegistryError(404, 40403, "Schema " + id + " not found"));
                    if (p.length == 3) {
                        return JSON.createObjectNode().put("schema", schema.toString());
                    }
                    if ("schema".equals(p[3])) {
                        return JSON.readTree(schema.toString());
                    }
                    if ("versions".equals(p[3])) {
                        ArrayNode a = JSON.createArrayNode();
                        store.read(s -> s.usages(id)).forEach(v ->
                                a.addObject().put("subject", v.subject()).put("version", v.version()));
                        return a;
                    }
                }
                break;
            case "compatibility":
                if (p.length == 5 && "subjects".equals(p[1]) && "versions".equals(p[3]) && "POST".equals(method)) {
                    Schema candidate = parse(body(ex));
                    RegistryState.Version against = version(p[2], p[4]);
                    Compatibility level = store.read(s -> s.compatibility(p[2], config.compatibility()));
                    List<Schema> previous = "latest".equals(p[4]) ? allSchemas(p[2]) : List.of(against.schema());
                    List<String> problems = level.problems(candidate, previous);
                    ObjectNode r = JSON.createObjectNode().put("is_compatible", problems.isEmpty());
                    if (!problems.isEmpty()) {
                        ArrayNode m = r.putArray("messages");
                        problems.forEach(m::add);
                    }
                    return r;
                }
                break;
            case "config":
                return config(method, p, ex);
            case "health":
                return JSON.createObjectNode().put("status", store.healthy() ? "UP" : "DOWN");
            default:
                break;
        }
        throw new RegistryError(404, 404, "HTTP 404 Not Found: " + method + " " + String.join("/", p));
    }

    private JsonNode config(String method, String[] p, HttpExchange ex) throws IOException {
        String subject = p.length >= 2 ? p[1] : null;
        if ("GET".equals(method)) {
            Compatibility level = subject == null
                    ? store.read(s -> s.compatibility("", config.compatibility()))
                    : store.read(s -> s.subjectConfig(subject)).orElseGet(() -> {
                        if (queryFlag(ex, "defaultToGlobal")) {
                            return store.read(s -> s.compatibility("", config.compatibility()));
                        }
                        throw new RegistryError(404, 40408, "Subject '" + subject + "' does not have subject-level compatibility configured");
                    });
            return JSON.createObjectNode().put("compatibilityLevel", level.name());
        }
        if ("PUT".equals(method)) {
            JsonNode body = body(ex);
            String text = body.path("compatibility").asText(body.path("compatibilityLevel").asText(""));
            Compatibility level;
            try {
                level = Compatibility.parse(text);
            } catch (IllegalArgumentException e) {
                throw new RegistryError(422, 42203, "Invalid compatibility level: '" + text + "'");
            }
            store.setCompatibility(subject, level);
            return JSON.createObjectNode().put("compatibility", level.name());
        }
        if ("DELETE".equals(method) && subject != null) {
            Compatibility previous = store.read(s -> s.subjectConfig(subject))
                    .orElseThrow(() -> new RegistryError(404, 40401, "Subject '" + subject + "' not found."));
            store.setCompatibility(subject, null);
            return JSON.createObjectNode().put("compatibilityLevel", previous.name());
        }
        throw new RegistryError(405, 405, "HTTP 405 Method Not Allowed");
    }

    private JsonNode register(String subject, JsonNode body) {
        Schema schema = parse(body);
        RegistryState.Version v = store.register(subject, schema, (state, candidate) -> {
            Compatibility level = state.compatibility(subject, config.compatibility());
            List<Schema> previous = state.versions(subject).stream().map(RegistryState.Version::schema).toList();
            List<String> problems = level.problems(candidate, previous);
            if (!problems.isEmpty()) {
                throw new RegistryError(409, 409, "Schema being registered is incompatible with an earlier schema for subject \""
                        + subject + "\" (" + level + "): " + String.join("; ", problems));
            }
        });
        return JSON.createObjectNode().put("id", v.id());
    }

    private JsonNode lookup(String subject, JsonNode body) {
        Schema schema = parse(body);
        if (store.read(s -> s.versions(subject)).isEmpty()) {
            throw subjectNotFound(subject);
        }
        RegistryState.Version v = store.read(s -> s.find(subject, schema))
                .orElseThrow(() -> new RegistryError(404, 40403, "Schema not found"));
        return describe(v);
    }

    private List<Schema> allSchemas(String subject) {
        return store.read(s -> s.versions(subject)).stream().map(RegistryState.Version::schema).toList();
    }

    private RegistryState.Version version(String subject, String version) {
        if (store.read(s -> s.versions(subject)).isEmpty()) {
            throw subjectNotFound(subject);
        }
        Optional<RegistryState.Version> v;
        if ("latest".equals(version) || "-1".equals(version)) {
            v = store.read(s -> s.latest(subject));
        } else {
            int n = parseInt(version, 42202, "version");
            if (n < 1) {
                throw new RegistryError(422, 42202, "The specified version '" + version + "' is not a valid version id.");
            }
            v = store.read(s -> s.version(subject, n));
        }
        return v.orElseThrow(() -> new RegistryError(404, 40402, "Version " + version + " not found."));
    }

    private static RegistryError subjectNotFound(String subject) {
        return new RegistryError(404, 40401, "Subject '" + subject + "' not found.");
    }

    private static int parseInt(String s, int code, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new RegistryError(code == 40403 ? 404 : 422, code, "invalid " + what + " '" + s + "'");
        }
    }

    private static ObjectNode describe(RegistryState.Version v) {
        return JSON.createObjectNode().put("subject", v.subject()).put("version", v.version()).put("id", v.id())
                .put("schema", v.schema().toString());
    }

    private static Schema parse(JsonNode body) {
        String type = body.path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw new RegistryError(422, 42201, "Invalid schema: schemaType " + type + " is not supported (AVRO only)");
        }
        if (body.path("references").isArray() && !body.path("references").isEmpty()) {
            throw new RegistryError(422, 42201, "Invalid schema: schema references are not supported");
        }
        String text = body.path("schema").asText(null);
        if (text == null || text.isBlank()) {
            throw new RegistryError(422, 42201, "Invalid schema: field 'schema' is required");
        }
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException | NullPointerException e) {
            throw new RegistryError(422, 42201, "Invalid schema: " + e.getMessage());
        }
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(4 * 1024 * 1024);
            if (bytes.length == 0) {
                throw new RegistryError(422, 42201, "request body is empty");
            }
            try {
                return JSON.readTree(bytes);
            } catch (IOException e) {
                throw new RegistryError(400, 400, "request body is not JSON: " + e.getMessage());
            }
        }
    }

    private static boolean queryFlag(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getQuery();
        return q != null && q.contains(name + "=true");
    }

    private static String[] segments(String rawPath) {
        return java.util.Arrays.stream(rawPath.split("/")).filter(s -> !s.isEmpty())
                .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toArray(String[]::new);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        store.close();
    }
}
