package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.RequestEvent;
import llmq.common.auth.ApiKeys;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The native API over HTTP against the real broker, registry and PostgreSQL. */
@IntegrationTest
class IngestApiIT {

    static IngestApi api;
    static String acmeKey;
    static String globexKey;
    static Infra infra;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start(Infra shared) throws Exception {
        infra = shared;
        infra.postgres();
        String acme = "acme-" + UUID.randomUUID().toString().substring(0, 6);
        String globex = "globex-" + UUID.randomUUID().toString().substring(0, 6);
        acmeKey = tenant(acme, "high");
        globexKey = tenant(globex, "normal");
        api = IngestApi.start(infra.settings(Map.of(
                "ingest.port", "0",
                "ingest.status.application-id", "ingest-it-" + UUID.randomUUID(),
                "ingest.status.state-dir", infra.newDirectory("ingest-status").toString())));
    }

    @AfterAll
    static void stop() {
        if (api != null) {
            api.close();
        }
    }

    private static String tenant(String id, String maxPriority) throws Exception {
        ApiKeys.Generated key = ApiKeys.generate();
        try (Connection c = infra.postgres().db().connect()) {
            try (PreparedStatement t = c.prepareStatement(
                    "INSERT INTO tenants (id, name, default_priority, max_priority) VALUES (?, ?, 'normal', ?)")) {
                t.setString(1, id);
                t.setString(2, id);
                t.setString(3, maxPriority);
                t.executeUpdate();
            }
            try (PreparedStatement k = c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash) VALUES (?, ?, ?)")) {
                k.setString(1, key.id());
                k.setString(2, id);
                k.setString(3, ApiKeys.hash(key.key()));
                k.executeUpdate();
            }
        }
        return key.key();
    }

    private HttpResponse<String> post(String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + "/v1/requests"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String key, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(api.url() + path)).header("Authorization", "Bearer " + key)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return Json.mapper().readTree(r.body());
    }

    private static final String VALID = "{\"model\":\"sim-small\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void shouldAcceptARequestOnlyOnceItIsOnItsPriorityTopic() throws Exception {
        HttpResponse<String> r = post(acmeKey, "{\"model\":\"sim-small\",\"priority\":\"high\",\"idempotency_key\":\"i-1\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode body = json(r);
        String id = body.path("id").asText();
        assertThat(body.path("status").asText()).isEqualTo("queued");
        assertThat(body.path("priority").asText()).isEqualTo("high");
        assertThat(body.path("status_url").asText()).endsWith("/v1/requests/" + id);
        assertThat(r.headers().firstValue("Location")).contains(body.path("status_url").asText());

        ConsumerRecord<String, byte[]> written = find("llm.requests.high", id);
        LlmRequest sent = infra.serdes().value(LlmRequest.class).deserialize(written.topic(), written.value());
        assertThat(written.key()).isEqualTo(sent.getTenantId() + ":i-1");
        assertThat(sent.getSource()).isEqualTo("http");
        ConsumerRecord<String, byte[]> accepted = find("llm.events", id);
        assertThat(infra.serdes().value(RequestEvent.class).deserialize("llm.events", accepted.value()).getType())
                .isEqualTo(EventType.ACCEPTED);

        // right after the 202 the submitter can already see it
        HttpResponse<String> status = get(acmeKey, "/v1/requests/" + id);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(json(status).path("status").asText()).isEqualTo("queued");
    }

    @Test
    void shouldAnswer400NamingTheFieldAndWriteNothing() throws Exception {
        HttpResponse<String> noMessages = post(acmeKey, "{\"model\":\"sim-small\"}");
        assertThat(noMessages.statusCode()).isEqualTo(400);
        assertThat(json(noMessages).path("error").path("field").asText()).isEqualTo("messages");
        assertThat(json(noMessages).path("error").path("message").asText()).contains("messages");

        HttpResponse<String> notJson = post(acmeKey, "{\"model\":");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(json(notJson).path("error").path("type").asText()).isEqualTo("invalid_json");

        HttpResponse<String> badRole = post(acmeKey, "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}");
        assertThat(json(badRole).path("error").path("field").asText()).isEqualTo("messages[0].role");
    }

    @Test
    void shouldAnswer401WithoutAValidKey() throws Exception {
        assertThat(post(null, VALID).statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = post("llmq_nope_nope", VALID);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(json(wrong).path("error").path("field").asText()).isEqualTo("Authorization");
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    }

    @Test
    void shouldAnswer403ForAPriorityAboveTheTenantsMaximum() throws Exception {
        HttpResponse<String> r = post(globexKey, "{\"model\":\"m\",\"priority\":\"realtime\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(json(r).path("error").path("field").asText()).isEqualTo("priority");
    }

    @Test
    void shouldHideOneTenantsRequestsFromAnother() throws Exception {
        String id = json(post(acmeKey, VALID)).path("id").asText();
        assertThat(get(acmeKey, "/v1/requests/" + id).statusCode()).isEqualTo(200);
        assertThat(get(globexKey, "/v1/requests/" + id).statusCode()).isEqualTo(404);
        assertThat(get(acmeKey, "/v1/requests/" + UUID.randomUUID()).statusCode()).isEqualTo(404);
    }

    @Test
    void shouldServeHealthAndPrometheusMetrics() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> health = get(acmeKey, "/health");
        while (health.statusCode() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            health = get(acmeKey, "/health");
        }
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).path("status").asText()).isEqualTo("UP");
        post(acmeKey, VALID);
        HttpResponse<String> metrics = get(acmeKey, "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("llmq_ingest_kafka_ack").contains("http_server_requests");
    }

    @Test
    void shouldFollowStatusFromEventsAndResults() throws Exception {
        String id = json(post(acmeKey, VALID)).path("id").asText();
        String tenant = tenantOf(id);
        Map<String, Object> p = new HashMap<>(infra.kafkaConfig().producer("ingest-it"));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            RequestEvent started = RequestEvent.newBuilder().setRequestId(id).setTenantId(tenant)
                    .setType(EventType.STARTED).setAt(java.time.Instant.now()).setAttempt(1).build();
            producer.send(new ProducerRecord<>("llm.events", id,
                    infra.serdes().value(RequestEvent.class).serialize("llm.events", started))).get();
            assertThat(awaitState(id, "running")).isEqualTo("running");
            llmq.avro.LlmResult result = llmq.avro.LlmResult.newBuilder().setRequestId(id).setTenantId(tenant)
                    .setStatus(llmq.avro.ResultStatus.COMPLETED).setModel("sim-small").setOutput("answer")
                    .setUsage(new llmq.avro.Usage(3, 4, 0, false)).setAttempts(1).setCompletedAt(java.time.Instant.now()).build();
            producer.send(new ProducerRecord<>("llm.results", id,
                    infra.serdes().value(llmq.avro.LlmResult.class).serialize("llm.results", result))).get();
        }
        assertThat(awaitState(id, "completed")).isEqualTo("completed");
        JsonNode done = json(get(acmeKey, "/v1/requests/" + id));
        assertThat(done.path("result").path("output").asText()).isEqualTo("answer");
        assertThat(done.path("result").path("usage").path("total_tokens").asInt()).isEqualTo(7);
    }

    private String tenantOf(String id) throws Exception {
        ConsumerRecord<String, byte[]> r = find("llm.requests.normal", id);
        return infra.serdes().value(LlmRequest.class).deserialize(r.topic(), r.value()).getTenantId();
    }

    private String awaitState(String id, String state) throws Exception {
        String last = null;
        for (int i = 0; i < 300; i++) {
            last = json(get(acmeKey, "/v1/requests/" + id)).path("status").asText();
            if (state.equals(last)) {
                break;
            }
            Thread.sleep(50);
        }
        return last;
    }

    /** The record of request {@code id} on {@code topic} (value or key holds the id). */
    private static ConsumerRecord<String, byte[]> find(String topic, String id) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", infra.bootstrapServers());
        c.put("group.id", "ingest-it-" + UUID.randomUUID());
        c.put("auto.offset.reset", "earliest");
        c.put("isolation.level", "read_committed");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (id.equals(r.key()) || (r.value() != null && new String(r.value(), java.nio.charset.StandardCharsets.UTF_8).contains(id))) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no record for " + id + " on " + topic);
    }
}
