package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.databind.JsonNode;
import io.micronaut.web.router.Router;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.ApiKey;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.avro.ResultStatus;
import llmq.avro.TenantBudget;
import llmq.avro.Usage;
import llmq.common.auth.ApiKeys;
import llmq.ingest.callbacks.CallbackSigner;
import llmq.ingest.limits.RateLimiter;
import llmq.ingest.support.Api;
import llmq.ingest.support.Receiver;
import llmq.ingest.support.StubRouter;
import llmq.ingest.support.Tenants;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native API, its errors, limits, callbacks and the OpenAI error shapes over real HTTP against the
 * real broker and registry, without the router and worker: the test plays their part where one is
 * needed (events and results published to the topics) and stands in for the router's admin view.
 * Tenants, keys and budgets reach ingest as billing publishes them.
 */
@IntegrationTest
class IngestApiIT {

    static final String CALLBACK_SECRET = "it-callback-secret-0123456789";
    static IngestApi ingest;
    static Api api;
    static Infra infra;
    static StubRouter router;
    static Tenants.Created acme;
    static Tenants.Created globex;
    static final ConcurrentLinkedQueue<String> accessLog = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start(Infra shared) throws Exception {
        infra = shared;
        acme = Tenants.create(infra, "acme", Priority.HIGH, null, null);
        globex = Tenants.create(infra, "globex", Priority.NORMAL, null, null);
        router = new StubRouter();
        String group = "ingest-it-callbacks-" + UUID.randomUUID();
        try (KafkaIo io = new KafkaIo(infra)) {
            io.startGroupAtEnd(group, List.of(infra.catalog().callbacks().name()));
        }
        captureAccessLog();
        ingest = IngestApi.start(infra.settings(Map.ofEntries(
                Map.entry("ingest.port", "0"),
                Map.entry("ingest.status.application-id", "ingest-it-" + UUID.randomUUID()),
                Map.entry("ingest.status.state-dir", infra.newDirectory("ingest-status").toString()),
                Map.entry("ingest.models", "sim-small,m"),
                Map.entry("ingest.router-admin-url", router.url()),
                Map.entry("ingest.callbacks.secret", CALLBACK_SECRET),
                Map.entry("ingest.callbacks.initial-backoff", "100ms"),
                Map.entry("ingest.callbacks.group-id", group),
                Map.entry("ingest.max-body", "16384"),
                Map.entry("ingest.max-messages", "5"),
                Map.entry("ingest.max-message-chars", "2000"),
                Map.entry("ingest.cancel.wait", "1s"),
                Map.entry("ingest.openai.timeout", "1s"))));
        api = new Api(ingest.url());
    }

    @AfterAll
    static void stop() {
        if (ingest != null) {
            ingest.close();
        }
        if (router != null) {
            router.close();
        }
    }

    private static void captureAccessLog() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        AbstractAppender appender = new AbstractAppender("it-access-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                accessLog.add(event.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        org.apache.logging.log4j.core.Logger logger = ctx.getLogger("llmq.ingest.access");
        // the shared test configuration keeps the access log quiet; this test needs its lines
        logger.setLevel(org.apache.logging.log4j.Level.INFO);
        logger.addAppender(appender);
    }

    static final String VALID = Api.request("sim-small", "hi");

    private static JsonNode json(HttpResponse<String> r) {
        return Api.json(r);
    }

    /** Posts {@code body} until the status is {@code status} (bounded); returns the last response. */
    private static HttpResponse<String> postUntil(String key, String body, int status) {
        return KafkaIo.until(() -> api.post("/v1/requests", key, body), r -> r.statusCode() == status);
    }

    private static String awaitState(String key, String id, String state) {
        return KafkaIo.until(() -> json(api.get("/v1/requests/" + id, key)).path("status").asText(), state::equals);
    }

    private static void publishEvent(String id, String tenant, EventType type, Priority p, String reason) {
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().events(), id, RequestEvent.newBuilder().setRequestId(id).setTenantId(tenant).setType(type)
                    .setAt(Instant.now()).setPriority(p).setAttempt(1).setReason(reason).build());
        }
    }

    private static void publishResult(String id, String tenant, String output) {
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().results(), id, LlmResult.newBuilder().setRequestId(id).setTenantId(tenant)
                    .setStatus(ResultStatus.COMPLETED).setModel("sim-small").setOutput(output).setFinishReason("stop")
                    .setUsage(new Usage(3, 4, 0, false)).setAttempts(1).setCompletedAt(Instant.now()).build());
        }
    }

    // ---------------------------------------------------------------- admission

    @Test
    void shouldAcceptARequestOnlyOnceItIsOnItsPriorityTopic() {
        HttpResponse<String> r = api.post("/v1/requests", acme.key(), "{\"model\":\"sim-small\",\"priority\":\"high\","
                + "\"idempotency_key\":\"i-1-" + UUID.randomUUID() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode body = json(r);
        String id = body.path("id").asText();
        assertThat(body.path("status").asText()).isEqualTo("queued");
        assertThat(body.path("priority").asText()).isEqualTo("high");
        assertThat(body.path("status_url").asText()).endsWith("/v1/requests/" + id);
        assertThat(r.headers().firstValue("Location")).contains(body.path("status_url").asText());

        try (KafkaIo io = new KafkaIo(infra)) {
            List<KafkaIo.Received<LlmRequest>> written = io.await(infra.catalog().intake(Priority.HIGH),
                    x -> x.value().getId().equals(id), 1);
            assertThat(written).singleElement().satisfies(w -> {
                assertThat(w.key()).isEqualTo(acme.id() + ":" + w.value().getIdempotencyKey());
                assertThat(w.value().getSource()).isEqualTo("http");
            });
            assertThat(io.await(infra.catalog().events(), x -> x.key().equals(id), 1))
                    .extracting(x -> x.value().getType()).containsExactly(EventType.ACCEPTED);
        }
        // right after the 202 the submitter can already see it
        HttpResponse<String> status = api.get("/v1/requests/" + id, acme.key());
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(json(status).path("status").asText()).isEqualTo("queued");
    }

    @Test
    void shouldAnswer400NamingTheFieldAndWriteNothing() {
        HttpResponse<String> noMessages = api.post("/v1/requests", acme.key(), "{\"model\":\"sim-small\"}");
        assertThat(noMessages.statusCode()).isEqualTo(400);
        assertThat(json(noMessages).path("error").path("field").asText()).isEqualTo("messages");
        assertThat(json(noMessages).path("error").path("message").asText()).contains("messages");

        HttpResponse<String> notJson = api.post("/v1/requests", acme.key(), "{\"model\":");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(json(notJson).path("error").path("type").asText()).isEqualTo("invalid_json");

        HttpResponse<String> badRole = api.post("/v1/requests", acme.key(),
                "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}");
        assertThat(json(badRole).path("error").path("field").asText()).isEqualTo("messages[0].role");

        HttpResponse<String> trailing = api.post("/v1/requests", acme.key(), VALID + " {}");
        assertThat(trailing.statusCode()).as("trailing garbage after the object").isEqualTo(400);
    }

    @Test
    void shouldLimitMessageCountAndLengthNamingTheField() {
        StringBuilder six = new StringBuilder("{\"model\":\"m\",\"messages\":[");
        for (int i = 0; i < 6; i++) {
            six.append(i == 0 ? "" : ",").append("{\"role\":\"user\",\"content\":\"x\"}");
        }
        HttpResponse<String> tooMany = api.post("/v1/requests", acme.key(), six + "]}");
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(json(tooMany).path("error").path("field").asText()).isEqualTo("messages");
        assertThat(json(tooMany).path("error").path("message").asText()).contains("at most 5");

        HttpResponse<String> tooLong = api.post("/v1/requests", acme.key(), Api.request("m", "x".repeat(2001)));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(json(tooLong).path("error").path("field").asText()).isEqualTo("messages[0].content");
    }

    @Test
    void shouldAnswer413ForABodyOverTheLimit() {
        HttpResponse<String> r = api.post("/v1/requests", acme.key(), Api.request("m", "y".repeat(20_000)));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(json(r).path("error").path("type").asText()).isEqualTo("request_too_large");
        assertThat(json(r).path("error").path("field").asText()).isEqualTo("body");
    }

    @Test
    void shouldAnswer400ListingTheKnownModelsForAnUnknownModel() {
        HttpResponse<String> r = api.post("/v1/requests", acme.key(), Api.request("gpt-unknown", "hi"));
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = json(r).path("error");
        assertThat(error.path("field").asText()).isEqualTo("model");
        assertThat(error.path("message").asText()).contains("gpt-unknown").contains("sim-small").contains("m");
    }

    @Test
    void shouldAnswer401WithoutAValidKey() {
        assertThat(api.post("/v1/requests", null, VALID).statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = api.post("/v1/requests", "llmq_nope_nope", VALID);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(json(wrong).path("error").path("field").asText()).isEqualTo("Authorization");
        assertThat(wrong.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        for (String path : List.of("/v1/requests/x", "/v1/queues", "/v1/batches/x", "/v1/models")) {
            assertThat(api.get(path, null).statusCode()).as(path).isEqualTo(401);
        }
        assertThat(api.delete("/v1/requests/x", "llmq_nope_nope").statusCode()).isEqualTo(401);
    }

    @Test
    void shouldAnswer403ForAPriorityAboveTheTenantsMaximum() {
        HttpResponse<String> r = api.post("/v1/requests", globex.key(),
                "{\"model\":\"m\",\"priority\":\"realtime\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(json(r).path("error").path("field").asText()).isEqualTo("priority");
    }

    @Test
    void shouldRefuseAKeyRevokedAfterStartWhileTheTenantsOtherKeysWork() {
        Tenants.Created t = Tenants.create(infra, "revoking", Priority.HIGH, null, null);
        ApiKeys.Generated other = ApiKeys.generate();
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().configApiKeys(), other.id(), apiKey(other.id(), t.id(), ApiKeys.hash(other.key()), null));
            assertThat(postUntil(other.key(), VALID, 202).statusCode()).isEqualTo(202);
            assertThat(api.post("/v1/requests", t.key(), VALID).statusCode()).isEqualTo(202);
            io.send(infra.catalog().configApiKeys(), t.keyId(), apiKey(t.keyId(), t.id(), ApiKeys.hash(t.key()), Instant.now()));
        }
        HttpResponse<String> refused = postUntil(t.key(), VALID, 401);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(json(refused).path("error").path("message").asText()).contains("revoked");
        assertThat(api.post("/v1/requests", other.key(), VALID).statusCode()).as("the tenant's other key").isEqualTo(202);
    }

    private static ApiKey apiKey(String id, String tenant, String hash, Instant revokedAt) {
        return ApiKey.newBuilder().setId(id).setTenantId(tenant).setKeyHash(hash).setCreatedAt(Instant.now())
                .setRevokedAt(revokedAt).build();
    }

    @Test
    void shouldAnswer402WhileTheTenantsMonthlyBudgetIsExhaustedAndAdmitAgainWhenRaised() {
        Tenants.Created t = Tenants.create(infra, "spender", Priority.HIGH, null, null);
        String month = YearMonth.now(ZoneOffset.UTC).toString();
        assertThat(postUntil(t.key(), VALID, 202).statusCode()).isEqualTo(202);
        try (KafkaIo io = new KafkaIo(infra)) {
            io.send(infra.catalog().budgets(), t.id(), budget(t.id(), month, "10.004", "10", true));
            HttpResponse<String> refused = postUntil(t.key(), VALID, 402);
            assertThat(refused.statusCode()).isEqualTo(402);
            JsonNode error = json(refused).path("error");
            assertThat(error.path("type").asText()).isEqualTo("budget_exceeded");
            assertThat(error.path("message").asText()).contains("10.00 USD spent of 10.00 USD").contains(month);
            io.send(infra.catalog().budgets(), t.id(), budget(t.id(), "2000-01", "99", "1", true));
            assertThat(postUntil(t.key(), VALID, 202).statusCode()).as("an earlier month refuses nothing").isEqualTo(202);
            io.send(infra.catalog().budgets(), t.id(), budget(t.id(), month, "10.004", "10", true));
            assertThat(postUntil(t.key(), VALID, 402).statusCode()).isEqualTo(402);
            io.send(infra.catalog().budgets(), t.id(), budget(t.id(), month, "10.004", "50", false));
        }
        assertThat(postUntil(t.key(), VALID, 202).statusCode()).as("budget raised").isEqualTo(202);
    }

    private static TenantBudget budget(String tenant, String month, String spent, String budget, boolean over) {
        return TenantBudget.newBuilder().setTenantId(tenant).setMonth(month).setCurrency("USD")
                .setSpent(new BigDecimal(spent).setScale(12)).setBudget(new BigDecimal(budget).setScale(6))
                .setOverBudget(over).setUpdatedAt(Instant.now()).build();
    }

    // ---------------------------------------------------------------- idempotency

    @Test
    void shouldAnswerARepeatedIdempotencyKeyWithTheOriginalIdAnd200() {
        String key = "order-" + UUID.randomUUID();
        HttpResponse<String> first = api.post("/v1/requests", acme.key(), VALID, "Idempotency-Key", key);
        assertThat(first.statusCode()).isEqualTo(202);
        String id = json(first).path("id").asText();

        HttpResponse<String> header = api.post("/v1/requests", acme.key(), VALID, "Idempotency-Key", key);
        assertThat(header.statusCode()).isEqualTo(200);
        assertThat(json(header).path("id").asText()).isEqualTo(id);
        assertThat(json(header).path("idempotent_replay").asBoolean()).isTrue();
        assertThat(header.headers().firstValue("Idempotent-Replayed")).contains("true");

        HttpResponse<String> field = api.post("/v1/requests", acme.key(),
                "{\"model\":\"sim-small\",\"idempotency_key\":\"" + key + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(field.statusCode()).isEqualTo(200);
        assertThat(json(field).path("id").asText()).isEqualTo(id);

        HttpResponse<String> mismatch = api.post("/v1/requests", acme.key(),
                "{\"model\":\"sim-small\",\"idempotency_key\":\"other\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "Idempotency-Key", key);
        assertThat(mismatch.statusCode()).isEqualTo(400);
        assertThat(json(mismatch).path("error").path("field").asText()).isEqualTo("Idempotency-Key");

        HttpResponse<String> otherTenant = api.post("/v1/requests", globex.key(), VALID, "Idempotency-Key", key);
        assertThat(otherTenant.statusCode()).as("keys are per tenant").isEqualTo(202);
        assertThat(json(otherTenant).path("id").asText()).isNotEqualTo(id);
        try (KafkaIo io = new KafkaIo(infra)) {
            assertThat(io.await(infra.catalog().intake(Priority.NORMAL), x -> x.key().equals(acme.id() + ":" + key), 1)).hasSize(1);
            assertThat(io.readAll(infra.catalog().intake(Priority.NORMAL), x -> x.key().equals(acme.id() + ":" + key)))
                    .as("one request written for the key").hasSize(1);
        }
    }

    @Test
    void shouldFindTheOriginalOfAnIdempotencyKeyFromTheStatusViewAfterTheRecentMapIsGone() {
        String key = "late-" + UUID.randomUUID();
        String id = json(api.post("/v1/requests", acme.key(), VALID, "Idempotency-Key", key)).path("id").asText();
        StatusLookups.awaitIdempotency(ingest, acme, key);
        ingest.bean(llmq.ingest.status.RecentlyAccepted.class).expire(Instant.now().plusSeconds(3600));
        HttpResponse<String> again = api.post("/v1/requests", acme.key(), VALID, "Idempotency-Key", key);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(json(again).path("id").asText()).isEqualTo(id);
    }

    // ---------------------------------------------------------------- status

    @Test
    void shouldHideOneTenantsRequestsFromAnother() {
        String id = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        assertThat(api.get("/v1/requests/" + id, acme.key()).statusCode()).isEqualTo(200);
        assertThat(api.get("/v1/requests/" + id, globex.key()).statusCode()).isEqualTo(404);
        assertThat(api.delete("/v1/requests/" + id, globex.key()).statusCode()).isEqualTo(404);
        assertThat(api.get("/v1/requests/" + UUID.randomUUID(), acme.key()).statusCode()).isEqualTo(404);
        assertThat(awaitState(acme.key(), id, "queued")).isEqualTo("queued");
        assertThat(api.get("/v1/requests/" + id, globex.key()).statusCode()).as("also once in the store").isEqualTo(404);
    }

    @Test
    void shouldFollowStatusFromEventsAndResults() {
        String id = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        publishEvent(id, acme.id(), EventType.STARTED, Priority.NORMAL, null);
        assertThat(awaitState(acme.key(), id, "running")).isEqualTo("running");
        publishResult(id, acme.id(), "answer");
        assertThat(awaitState(acme.key(), id, "completed")).isEqualTo("completed");
        JsonNode done = json(api.get("/v1/requests/" + id, acme.key()));
        assertThat(done.path("result").path("output").asText()).isEqualTo("answer");
        assertThat(done.path("result").path("usage").path("total_tokens").asInt()).isEqualTo(7);
    }

    @Test
    void shouldShowPromotionsAndTheRoutersQueuePositionWhileParked() {
        String id = json(api.post("/v1/requests", acme.key(), "{\"model\":\"m\",\"priority\":\"low\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).path("id").asText();
        router.position(id, "{\"id\":\"" + id + "\",\"state\":\"parked\",\"level\":\"normal\",\"position\":7,"
                + "\"estimated_wait_ms\":1400}");
        publishEvent(id, acme.id(), EventType.PARKED, Priority.LOW, null);
        publishEvent(id, acme.id(), EventType.PROMOTED, Priority.NORMAL, "low → normal");
        JsonNode v = KafkaIo.until(() -> json(api.get("/v1/requests/" + id, acme.key())),
                n -> n.path("promotions").size() == 1);
        assertThat(v.path("status").asText()).isEqualTo("parked");
        assertThat(v.path("priority").asText()).isEqualTo("normal");
        assertThat(v.path("original_priority").asText()).isEqualTo("low");
        assertThat(v.path("promotions").get(0).path("from").asText()).isEqualTo("low");
        assertThat(v.path("promotions").get(0).path("to").asText()).isEqualTo("normal");
        assertThat(v.path("queue_position").asLong()).isEqualTo(7);
        assertThat(v.path("estimated_wait_ms").asLong()).isEqualTo(1400);

        publishEvent(id, acme.id(), EventType.STARTED, Priority.NORMAL, null);
        JsonNode running = KafkaIo.until(() -> json(api.get("/v1/requests/" + id, acme.key())),
                n -> n.path("status").asText().equals("running"));
        assertThat(running.has("queue_position")).as("no position once it runs").isFalse();
    }

    @Test
    void shouldAnswerQueuesWithTheRoutersDepthsAndTheObservedWaits() {
        router.backlog("{\"levels\":{\"realtime\":{\"parked\":0,\"delayed\":0,\"queued\":1,\"releases_per_second\":2.5},"
                + "\"high\":{\"parked\":3,\"delayed\":1,\"queued\":2,\"releases_per_second\":1.0}}}");
        String id = json(api.post("/v1/requests", acme.key(), "{\"model\":\"m\",\"priority\":\"high\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).path("id").asText();
        awaitState(acme.key(), id, "queued");
        publishEvent(id, acme.id(), EventType.STARTED, Priority.HIGH, null);
        JsonNode q = KafkaIo.until(() -> json(api.get("/v1/queues", acme.key())),
                n -> n.path("levels").path("high").path("wait_ms").path("samples").asInt() > 0);
        assertThat(q.path("router").asText()).isEqualTo("ok");
        JsonNode high = q.path("levels").path("high");
        assertThat(high.path("depth").asLong()).isEqualTo(6);
        assertThat(high.path("parked").asLong()).isEqualTo(3);
        assertThat(high.path("wait_ms").path("p50").isNumber()).isTrue();
        assertThat(high.path("accepted_per_second").asDouble()).isPositive();
        assertThat(q.path("levels").path("realtime").path("depth").asLong()).isEqualTo(1);
        assertThat(q.path("levels").path("low").path("wait_ms").path("p99").isNull()).isTrue();
    }

    // ---------------------------------------------------------------- cancel

    @Test
    void shouldSendACancelCommandAndAnswer202WhenTheRouterDoesNotAnswerInTime() {
        String id = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        awaitState(acme.key(), id, "queued");
        HttpResponse<String> r = api.delete("/v1/requests/" + id, acme.key());
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r).path("status").asText()).isEqualTo("cancelling");
        try (KafkaIo io = new KafkaIo(infra)) {
            assertThat(io.await(infra.catalog().events(), x -> x.key().equals(id)
                    && x.value().getType() == EventType.CANCEL_REQUESTED, 1)).singleElement()
                    .satisfies(x -> assertThat(x.value().getTenantId()).isEqualTo(acme.id()));
        }
    }

    @Test
    void shouldAnswerTheRoutersVerdictOnACancel() throws Exception {
        String cancelled = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        String rejected = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        awaitState(acme.key(), rejected, "queued");
        // the test plays the router: it answers each cancel command it sees
        ExecutorService routerPart = Executors.newSingleThreadExecutor();
        try {
            routerPart.submit(() -> {
                try (KafkaIo io = new KafkaIo(infra)) {
                    for (String id : List.of(cancelled, rejected)) {
                        io.await(infra.catalog().events(), x -> x.key().equals(id)
                                && x.value().getType() == EventType.CANCEL_REQUESTED, 1);
                        if (id.equals(cancelled)) {
                            publishEvent(id, acme.id(), EventType.CANCELLED, Priority.NORMAL, "cancelled by the submitter");
                        } else {
                            publishEvent(id, acme.id(), EventType.CANCEL_REJECTED, Priority.NORMAL, "already released to a worker queue");
                        }
                    }
                }
                return null;
            });
            HttpResponse<String> ok = KafkaIo.until(() -> api.delete("/v1/requests/" + cancelled, acme.key()),
                    r -> r.statusCode() == 200);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(json(ok).path("status").asText()).isEqualTo("cancelled");
            HttpResponse<String> no = KafkaIo.until(() -> api.delete("/v1/requests/" + rejected, acme.key()),
                    r -> r.statusCode() == 409);
            assertThat(no.statusCode()).isEqualTo(409);
            assertThat(json(no).path("error").path("message").asText()).contains("already released to a worker queue");
        } finally {
            routerPart.shutdownNow();
        }
    }

    @Test
    void shouldRefuseToCancelAFinishedRequestWithoutSendingACommand() {
        String id = json(api.post("/v1/requests", acme.key(), VALID)).path("id").asText();
        publishResult(id, acme.id(), "done already");
        awaitState(acme.key(), id, "completed");
        HttpResponse<String> r = api.delete("/v1/requests/" + id, acme.key());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(json(r).path("error").path("message").asText()).contains("completed");
        try (KafkaIo io = new KafkaIo(infra)) {
            assertThat(io.readAll(infra.catalog().events(), x -> x.key().equals(id)
                    && x.value().getType() == EventType.CANCEL_REQUESTED)).isEmpty();
        }
    }

    // ---------------------------------------------------------------- limits

    @Test
    void shouldAnswer429WithRetryAfterAndRateLimitHeadersOverTheTenantsRpm() {
        Tenants.Created t = Tenants.create(infra, "limited", Priority.HIGH, 60, null);
        api.awaitKey(t.key());
        HttpResponse<String> ok = api.post("/v1/requests", t.key(), VALID);
        assertThat(ok.statusCode()).isEqualTo(202);
        assertThat(ok.headers().firstValue("X-RateLimit-Limit")).contains("60");
        assertThat(ok.headers().firstValue("X-RateLimit-Remaining")).contains("9");
        HttpResponse<String> last = ok;
        for (int i = 0; i < 20 && last.statusCode() != 429; i++) {
            last = api.post("/v1/requests", t.key(), VALID);
        }
        assertThat(last.statusCode()).isEqualTo(429);
        assertThat(Integer.parseInt(last.headers().firstValue("Retry-After").orElse("0"))).isPositive();
        assertThat(last.headers().firstValue("X-RateLimit-Remaining")).contains("0");
        assertThat(last.headers().firstValue("X-RateLimit-Reset")).isPresent();
        assertThat(json(last).path("error").path("type").asText()).isEqualTo("rate_limited");
    }

    /**
     * Acceptance: 50 parallel clients of one tenant with RPM 600 for 10 s get at most the bucket's burst
     * plus the rate over the time they ran. The bound is exact: from a full bucket, a greedy refill of
     * 10 tokens per second can have admitted at most {@code burst + floor(10 × t)} requests by time t, and
     * t is at most the span from the first request sent to the last answer received.
     */
    @Test
    void shouldAdmitFiftyParallelClientsAtMostTheBurstPlusTheRate() throws Exception {
        Tenants.Created t = Tenants.create(infra, "rpm600", Priority.HIGH, 600, null);
        api.awaitKey(t.key());
        long burst = new RateLimiter(java.time.Duration.ofSeconds(10)).capacity(600);
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger limited = new AtomicInteger();
        ConcurrentLinkedQueue<String> other = new ConcurrentLinkedQueue<>();
        AtomicLong firstSent = new AtomicLong(Long.MAX_VALUE);
        AtomicLong lastAnswered = new AtomicLong();
        long end = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        ExecutorService clients = Executors.newFixedThreadPool(50);
        CountDownLatch go = new CountDownLatch(1);
        for (int c = 0; c < 50; c++) {
            clients.submit(() -> {
                go.await();
                while (System.nanoTime() < end) {
                    firstSent.accumulateAndGet(System.nanoTime(), Math::min);
                    HttpResponse<String> r = api.post("/v1/requests", t.key(), VALID);
                    lastAnswered.accumulateAndGet(System.nanoTime(), Math::max);
                    if (r.statusCode() == 202) {
                        accepted.incrementAndGet();
                    } else if (r.statusCode() == 429 && r.headers().firstValue("Retry-After").isPresent()
                            && r.headers().firstValue("X-RateLimit-Limit").isPresent()) {
                        limited.incrementAndGet();
                    } else {
                        other.add(r.statusCode() + " " + r.body());
                    }
                }
                return null;
            });
        }
        go.countDown();
        clients.shutdown();
        assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        double seconds = (lastAnswered.get() - firstSent.get()) / 1e9;
        long bound = burst + (long) Math.floor(10 * seconds);
        System.out.printf("50 clients, RPM 600, burst %d: %d accepted, %d refused with 429 in %.3f s (bound %d)%n",
                burst, accepted.get(), limited.get(), seconds, bound);
        assertThat(other).as("every answer is 202 or a 429 with Retry-After and rate-limit headers").isEmpty();
        assertThat(accepted.get()).as("accepted ≤ burst + 10/s × %.3f s", seconds).isLessThanOrEqualTo((int) bound);
        assertThat(accepted.get()).as("the full bucket is admitted").isGreaterThanOrEqualTo((int) burst);
        assertThat(limited.get()).isPositive();
    }

    // ---------------------------------------------------------------- callbacks

    @Test
    void shouldPostASignedCallbackRetryingUntilTheReceiverAcceptsIt() throws Exception {
        try (Receiver receiver = new Receiver(2)) {
            String body = "{\"model\":\"sim-small\",\"callback_url\":\"" + receiver.url("/hook") + "\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"call me\"}]}";
            String id = json(api.post("/v1/requests", acme.key(), body)).path("id").asText();
            awaitState(acme.key(), id, "queued");
            publishResult(id, acme.id(), "called back");

            List<Receiver.Call> calls = KafkaIo.until(receiver::calls, c -> c.size() >= 3);
            assertThat(calls).hasSize(3);
            assertThat(calls).extracting(Receiver.Call::answered).containsExactly(500, 500, 204);
            assertThat(calls).extracting(c -> c.header("X-LLMQ-Delivery-Attempt")).containsExactly("1", "2", "3");
            Receiver.Call delivered = calls.get(2);
            String secret = new CallbackSigner(CALLBACK_SECRET).tenantSecret(acme.id());
            assertThat(CallbackSigner.verify(secret, delivered.header("X-LLMQ-Signature"), delivered.body()))
                    .as("signature over t.body with the tenant's secret").isTrue();
            assertThat(CallbackSigner.verify(new CallbackSigner(CALLBACK_SECRET).tenantSecret(globex.id()),
                    delivered.header("X-LLMQ-Signature"), delivered.body())).isFalse();
            JsonNode payload = llmq.common.json.Json.mapper().readTree(delivered.body());
            assertThat(payload.path("id").asText()).isEqualTo(id);
            assertThat(payload.path("status").asText()).isEqualTo("completed");
            assertThat(payload.path("result").path("output").asText()).isEqualTo("called back");
            assertThat(delivered.header("X-LLMQ-Request-Id")).isEqualTo(id);
        }
    }

    @Test
    void shouldRefuseACallbackUrlThatIsNotHttp() {
        HttpResponse<String> r = api.post("/v1/requests", acme.key(), "{\"model\":\"m\",\"callback_url\":\"ftp://x\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).path("error").path("field").asText()).isEqualTo("callback_url");
    }

    // ---------------------------------------------------------------- batches (errors; the happy path is in PipelineIT)

    @Test
    void shouldRefuseABatchWithABadLineNamingLineAndFieldAndSubmitNothing() {
        String marker = "batch-marker-" + UUID.randomUUID();
        String batch = "{\"custom_id\":\"a\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}\n"
                + "{\"custom_id\":\"b\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}\n"
                + "{\"custom_id\":\"c\",\"model\":\"m\",\"temperature\":9,\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}\n";
        HttpResponse<String> r = api.post("/v1/batches", acme.key(), batch, "Content-Type", "application/x-ndjson");
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = json(r).path("error");
        assertThat(error.path("line").asInt()).isEqualTo(3);
        assertThat(error.path("field").asText()).isEqualTo("temperature");
        assertThat(error.path("message").asText()).startsWith("line 3: temperature");

        HttpResponse<String> unknownModel = api.post("/v1/batches", acme.key(),
                "{\"custom_id\":\"a\",\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(json(unknownModel).path("error").path("line").asInt()).isEqualTo(1);
        assertThat(json(unknownModel).path("error").path("field").asText()).isEqualTo("model");
        try (KafkaIo io = new KafkaIo(infra)) {
            for (Priority p : Priority.values()) {
                assertThat(io.readAll(infra.catalog().intake(p), x -> x.value().getMessages().get(0).getContent().equals(marker)))
                        .as("nothing of the refused batch on %s", p).isEmpty();
            }
        }
    }

    @Test
    void shouldHideOneTenantsBatchFromAnother() {
        HttpResponse<String> r = api.post("/v1/batches", acme.key(),
                "{\"custom_id\":\"a\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(202);
        String batch = json(r).path("id").asText();
        JsonNode mine = KafkaIo.until(() -> json(api.get("/v1/batches/" + batch, acme.key())), n -> n.path("total").asInt() == 1);
        assertThat(mine.path("total").asInt()).isEqualTo(1);
        assertThat(api.get("/v1/batches/" + batch, globex.key()).statusCode()).isEqualTo(404);
        assertThat(api.get("/v1/batches/" + batch + "/results", globex.key()).statusCode()).isEqualTo(404);
        assertThat(api.get("/v1/batches/batch_nope", acme.key()).statusCode()).isEqualTo(404);
    }

    // ---------------------------------------------------------------- OpenAI shapes

    @Test
    void shouldAnswerOpenAiErrorsInOpenAiShape() {
        HttpResponse<String> noKey = api.post("/v1/chat/completions", null, VALID);
        assertThat(noKey.statusCode()).isEqualTo(401);
        JsonNode e = json(noKey).path("error");
        assertThat(e.path("type").asText()).isEqualTo("authentication_error");
        assertThat(e.path("code").asText()).isEqualTo("invalid_api_key");
        assertThat(e.has("message") && e.has("param")).isTrue();

        HttpResponse<String> model = api.post("/v1/chat/completions", acme.key(), Api.request("gpt-nope", "x"));
        assertThat(model.statusCode()).isEqualTo(400);
        assertThat(json(model).path("error").path("param").asText()).isEqualTo("model");
        assertThat(json(model).path("error").path("type").asText()).isEqualTo("invalid_request_error");

        HttpResponse<String> unknown = api.get("/v1/models/gpt-nope", acme.key());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).path("error").path("code").asText()).isEqualTo("model_not_found");
        assertThat(json(api.get("/v1/models", acme.key())).path("data")).extracting(n -> n.path("id").asText())
                .contains("sim-small", "m");
    }

    @Test
    void shouldAnswer504InOpenAiShapeWhenTheResultDoesNotComeInTime() {
        HttpResponse<String> r = api.post("/v1/chat/completions", acme.key(), Api.request("sim-small", "nobody answers"));
        assertThat(r.statusCode()).isEqualTo(504);
        JsonNode e = json(r).path("error");
        assertThat(e.path("type").asText()).isEqualTo("timeout");
        String id = r.headers().firstValue("X-LLMQ-Request-Id").orElseThrow();
        assertThat(e.path("message").asText()).contains(id);
        assertThat(api.get("/v1/requests/" + id, acme.key()).statusCode()).as("it stays queued").isEqualTo(200);
    }

    // ---------------------------------------------------------------- operations

    @Test
    void shouldNotOfferTheAdminApiWithoutAnAdminToken() {
        assertThat(api.get("/admin/tenants", "anything-at-all-1234").statusCode()).isEqualTo(404);
        assertThat(api.post("/admin/api-keys", "anything-at-all-1234", "{\"tenant_id\":\"x\"}").statusCode()).isEqualTo(404);
    }

    @Test
    void shouldServeHealthAndPrometheusMetrics() {
        HttpResponse<String> health = KafkaIo.until(() -> api.get("/health", null), r -> r.statusCode() == 200);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).path("status").asText()).isEqualTo("UP");
        api.post("/v1/requests", acme.key(), VALID);
        HttpResponse<String> metrics = api.get("/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("llmq_ingest_kafka_ack").contains("http_server_requests");
    }

    /** Every route the app serves is in the committed OpenAPI document, which the app serves, and the other way round. */
    @Test
    void shouldServeTheCommittedOpenApiDocumentCoveringEveryRoute() throws Exception {
        HttpResponse<String> served = api.get("/openapi.yaml", null);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.body()).isEqualTo(java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "openapi.yaml")));
        JsonNode doc = new YAMLMapper().readTree(served.body());
        Set<String> documented = new TreeSet<>();
        doc.path("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> {
            if (!m.equals("parameters")) {
                documented.add(m.toUpperCase() + " " + p.getKey());
            }
        }));
        Set<String> routes = new TreeSet<>();
        ingest.bean(Router.class).uriRoutes().forEach(r -> {
            String path = r.getUriMatchTemplate().toPathString();
            // Micronaut answers HEAD for every GET by itself
            if (!path.startsWith("/internal/") && !r.getHttpMethodName().equals("HEAD")) {
                routes.add(r.getHttpMethodName() + " " + path);
            }
        });
        assertThat(documented).isEqualTo(routes);
    }

    @Test
    void shouldLogOneJsonAccessLineWithoutKeysOrPrompts() throws Exception {
        String secretPrompt = "do not log me " + UUID.randomUUID();
        HttpResponse<String> r = api.post("/v1/requests", acme.key(), Api.request("sim-small", secretPrompt));
        String id = json(r).path("id").asText();
        String line = KafkaIo.until(() -> accessLog.stream().filter(l -> l.contains(id)).findFirst().orElse(null),
                l -> l != null);
        assertThat(line).isNotNull();
        JsonNode j = llmq.common.json.Json.mapper().readTree(line);
        assertThat(j.path("method").asText()).isEqualTo("POST");
        assertThat(j.path("path").asText()).isEqualTo("/v1/requests");
        assertThat(j.path("status").asInt()).isEqualTo(202);
        assertThat(j.path("tenant").asText()).isEqualTo(acme.id());
        assertThat(j.path("latency_ms").isNumber()).isTrue();
        assertThat(accessLog).noneMatch(l -> l.contains(secretPrompt)).noneMatch(l -> l.contains(acme.key()))
                .noneMatch(l -> l.contains("Bearer"));
    }

    /** Helpers reaching into the running app, for waits the HTTP API cannot express. */
    static final class StatusLookups {
        private StatusLookups() {
        }

        static void awaitIdempotency(IngestApi app, Tenants.Created t, String key) {
            var status = app.bean(llmq.ingest.status.StatusService.class);
            var caller = new llmq.ingest.tenants.Caller(new llmq.ingest.tenants.Tenant(t.id(), t.id(), "standard",
                    Priority.NORMAL, Priority.HIGH, 1.0), "Bearer " + t.key());
            var found = KafkaIo.until(() -> {
                try {
                    return status.idempotency(caller, t.id() + ":" + key);
                } catch (RuntimeException e) {
                    return java.util.Optional.<String>empty();
                }
            }, java.util.Optional::isPresent);
            assertThat(found).as("the idempotency key reached the status view").isPresent();
        }
    }
}
