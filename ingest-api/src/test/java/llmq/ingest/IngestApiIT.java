package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.time.Instant;
import llmq.avro.ApiKey;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.TenantBudget;
import llmq.avro.LlmRequest;
import llmq.avro.RequestEvent;
import llmq.common.auth.ApiKeys;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
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

/**
 * The native API over HTTP against the real broker and registry. Tenants, keys and budgets reach
 * ingest as billing publishes them (change data capture of PostgreSQL, month-to-date spend), so
 * the tests publish them to those topics.
 */
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

    /**
     * A tenant and a key for it, published as billing's change data capture publishes the rows of
     * {@code tenants} and {@code api_keys} (ingest reads only the topics).
     */
    private static String tenant(String id, String maxPriority) {
        ApiKeys.Generated key = ApiKeys.generate();
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().configTenants(), id, llmq.avro.Tenant.newBuilder().setId(id).setName(id)
                    .setDefaultPriority(Priority.NORMAL).setMaxPriority(Priority.valueOf(maxPriority.toUpperCase()))
                    .setUpdatedAt(Instant.now()).build());
            io.send(infra.catalog().configApiKeys(), key.id(), apiKey(key.id(), id, ApiKeys.hash(key.key()), null));
        }
        keyIds.put(key.key(), key.id());
        tenantOfKey.put(key.key(), id);
        return key.key();
    }

    private static ApiKey apiKey(String id, String tenant, String hash, Instant revokedAt) {
        return ApiKey.newBuilder().setId(id).setTenantId(tenant).setKeyHash(hash).setCreatedAt(Instant.now())
                .setRevokedAt(revokedAt).build();
    }

    private static final Map<String, String> keyIds = new java.util.concurrent.ConcurrentHashMap<>();
    private static final Map<String, String> tenantOfKey = new java.util.concurrent.ConcurrentHashMap<>();

    /** Posts {@code body} until the status is {@code status} (bounded); returns the last response. */
    private HttpResponse<String> postUntil(String key, String body, int status) throws Exception {
        HttpResponse<String> r = post(key, body);
        long deadline = System.nanoTime() + KafkaIo.TIMEOUT.toNanos();
        while (r.statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(100);
            r = post(key, body);
        }
        return r;
    }

    @Test
    void shouldRefuseAKeyRevokedAfterStartWhileTheTenantsOtherKeysWork() throws Exception {
        String revoked = tenant("revoking-" + UUID.randomUUID().toString().substring(0, 6), "high");
        String tenant = tenantOfKey.get(revoked);
        ApiKeys.Generated other = ApiKeys.generate();
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().configApiKeys(), other.id(), apiKey(other.id(), tenant, ApiKeys.hash(other.key()), null));
            assertThat(postUntil(other.key(), VALID, 202).statusCode()).isEqualTo(202);
            assertThat(post(revoked, VALID).statusCode()).isEqualTo(202);

            io.send(infra.catalog().configApiKeys(), keyIds.get(revoked),
                    apiKey(keyIds.get(revoked), tenant, ApiKeys.hash(revoked), Instant.now()));
        }

        HttpResponse<String> refused = postUntil(revoked, VALID, 401);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(json(refused).path("error").path("message").asText()).contains("revoked");
        assertThat(post(other.key(), VALID).statusCode()).as("the tenant's other key").isEqualTo(202);
    }

    @Test
    void shouldAnswer402WhileTheTenantsMonthlyBudgetIsExhaustedAndAdmitAgainWhenRaised() throws Exception {
        String key = tenant("spender-" + UUID.randomUUID().toString().substring(0, 6), "high");
        String tenant = tenantOfKey.get(key);
        String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
        assertThat(post(key, VALID).statusCode()).isEqualTo(202);
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().budgets(), tenant, budget(tenant, month, "10.004", "10", true));

            HttpResponse<String> refused = postUntil(key, VALID, 402);
            assertThat(refused.statusCode()).isEqualTo(402);
            JsonNode error = json(refused).path("error");
            assertThat(error.path("type").asText()).isEqualTo("budget_exceeded");
            assertThat(error.path("message").asText()).contains("10.00 USD spent of 10.00 USD").contains(month);
            // the budget of an earlier month refuses nothing
            io.send(infra.catalog().budgets(), tenant, budget(tenant, "2000-01", "99", "1", true));
            assertThat(postUntil(key, VALID, 202).statusCode()).isEqualTo(202);

            io.send(infra.catalog().budgets(), tenant, budget(tenant, month, "10.004", "10", true));
            assertThat(postUntil(key, VALID, 402).statusCode()).isEqualTo(402);
            io.send(infra.catalog().budgets(), tenant, budget(tenant, month, "10.004", "50", false));
        }
        assertThat(postUntil(key, VALID, 202).statusCode()).as("budget raised").isEqualTo(202);
    }

    private static TenantBudget budget(String tenant, String month, String spent, String budget, boolean over) {
        return TenantBudget.newBuilder().setTenantId(tenant).setMonth(month).setCurrency("USD")
                .setSpent(new java.math.BigDecimal(spent).setScale(12)).setBudget(new java.math.BigDecimal(budget).setScale(6))
                .setOverBudget(over).setUpdatedAt(Instant.now()).build();
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
