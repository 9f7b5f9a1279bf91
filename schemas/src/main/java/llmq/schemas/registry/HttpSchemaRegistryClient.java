package llmq.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * {@link SchemaRegistryClient} over the Confluent-compatible REST API (Confluent Schema
 * Registry, Apicurio's ccompat API, Karapace, Redpanda, or llmq's own development registry).
 *
 * <p>Registrations and id lookups are cached for the life of the client. A registry that
 * cannot be reached is retried a few times with backoff before the call fails, so that
 * services starting together with the registry do not fail on the first record.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final int ATTEMPTS = 6;

    private final String baseUrl;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

    public HttpSchemaRegistryClient(String baseUrl) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public int register(String subject, Schema schema) {
        String canonical = schema.toString();
        return idsBySubjectAndSchema.computeIfAbsent(subject + '\u0000' + canonical, k -> {
            ObjectNode body = json.createObjectNode().put("schema", canonical);
            JsonNode reply = call("POST", "/subjects/" + encode(subject) + "/versions", body.toString());
            int id = reply.path("id").asInt(-1);
            if (id < 0) {
                throw new SchemaRegistryException(200, 0, "registry reply without id: " + reply);
            }
            schemasById.putIfAbsent(id, schema);
            return id;
        });
    }

    @Override
    public Schema schemaById(int id) {
        return schemasById.computeIfAbsent(id, k -> {
            JsonNode reply = call("GET", "/schemas/ids/" + id, null);
            return new Schema.Parser().parse(reply.path("schema").asText());
        });
    }

    @Override
    public Optional<Registered> latest(String subject) {
        try {
            JsonNode r = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
            Schema s = new Schema.Parser().parse(r.path("schema").asText());
            return Optional.of(new Registered(subject, r.path("version").asInt(), r.path("id").asInt(), s));
        } catch (SchemaRegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public List<String> subjects() {
        List<String> out = new ArrayList<>();
        call("GET", "/subjects", null).forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode call(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(10))
                .header("Accept", CONTENT_TYPE + ", application/json");
        if (body != null) {
            b.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpRequest request = b.build();
        IOException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                JsonNode reply = r.body() == null || r.body().isBlank() ? json.createObjectNode() : json.readTree(r.body());
                if (r.statusCode() >= 500 && attempt + 1 < ATTEMPTS) {
                    sleep(attempt);
                    continue;
                }
                if (r.statusCode() / 100 != 2) {
                    throw new SchemaRegistryException(r.statusCode(), reply.path("error_code").asInt(r.statusCode()),
                            method + " " + path + ": " + reply.path("message").asText(r.body()));
                }
                return reply;
            } catch (IOException e) {
                last = e;
                sleep(attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("interrupted calling schema registry " + baseUrl, e);
            }
        }
        throw new SchemaRegistryException("schema registry " + baseUrl + " unreachable: " + last, last);
    }

    private static void sleep(int attempt) {
        try {
            Thread.sleep(Math.min(2_000L, 100L << attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
