package llmq.billing.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.billing.BillingService;
import llmq.testsupport.ReplicationSlots;
import llmq.common.auth.ApiKeys;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.json.Json;
import llmq.ingest.IngestApi;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.worker.WorkerService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The billing invariant over the whole pipeline, every service real and in this JVM: HTTP into
 * ingest-api, priority-router, worker, the model simulator, billing-stream (with its change data
 * capture) and PostgreSQL. For every tenant the tokens in PostgreSQL equal what the simulator's
 * audit says it served, each request counted once, and the cost equals tokens × price exactly;
 * the aggregates equal the rows. Tenants, keys, prices and budgets are set in PostgreSQL only and
 * reach ingest, router and billing through CDC: a budget crossed gets 402 until it is raised, and
 * a key revoked in PostgreSQL is refused.
 */
@IntegrationTest
class PipelineInvariantIT {

    private static final BigDecimal INPUT = new BigDecimal("1.250000");
    private static final BigDecimal OUTPUT = new BigDecimal("2.500000");
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    private static Infra infra;
    private static DbConfig db;
    private static final Deque<AutoCloseable> running = new ArrayDeque<>();
    private static final String run = UUID.randomUUID().toString().substring(0, 8);
    private static final String model = "inv-model-" + run;
    private static final String slot = "it_pipeline_" + run;
    private static final Map<String, String> keys = new HashMap<>();
    private static final Map<String, String> keyIds = new HashMap<>();
    private static ModelSimulator sim;
    private static IngestApi ingest;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startEverything(Infra shared) throws Exception {
        infra = shared;
        db = infra.postgres().db();
        for (String t : List.of("acme", "globex", "frugal", "leaky")) {
            tenant(t(t), t.equals("frugal") ? "0.000100" : null);
        }
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO model_prices (model, "
                + "input_per_million, output_per_million) VALUES (?, ?, ?)")) {
            ps.setString(1, model);
            ps.setBigDecimal(2, INPUT);
            ps.setBigDecimal(3, OUTPUT);
            ps.executeUpdate();
        }
        String id = "it-pipeline-" + run;
        try (KafkaIo kafka = new KafkaIo(infra)) {
            kafka.startGroupAtEnd(id + "-billing", List.of(infra.catalog().usage().name()));
            kafka.startGroupAtEnd(id + "-sink", List.of(infra.catalog().billing().name()));
        }
        sim = track(ModelSimulator.start(ModelSimConfig.from(Settings.of(Map.of("modelsim.port", "0")))));
        track(BillingService.start(infra.settings(Map.of(
                "billing.application-id", id + "-billing",
                "billing.state-dir", infra.newDirectory("pipeline-billing").toString(),
                "billing.sink.group-id", id + "-sink",
                "billing.admin.port", "0",
                "billing.cdc.slot", slot,
                "billing.cdc.name", id + "-cdc",
                "billing.cdc.heartbeat-interval", "1s",
                "billing.budgets.publish-interval", "200ms",
                "billing.commit-interval", "50ms"))));
        track(RouterService.start(infra.settings(Map.of(
                "router.application-id", id + "-router",
                "router.state-dir", infra.newDirectory("pipeline-router").toString(),
                "router.admin.port", "0"))));
        track(WorkerService.start(infra.settings(Map.of(
                "worker.group-id", id + "-worker",
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", "sim",
                "worker.admin.port", "0"))));
        ingest = track(IngestApi.start(infra.settings(Map.of(
                "ingest.port", "0",
                "ingest.status.application-id", id + "-ingest-status",
                "ingest.status.state-dir", infra.newDirectory("pipeline-ingest").toString()))));
    }

    @AfterAll
    static void stopEverything() throws Exception {
        while (!running.isEmpty()) {
            running.pop().close();
        }
        ReplicationSlots.drop(infra, slot);
    }

    private static <T extends AutoCloseable> T track(T c) {
        running.push(c);
        return c;
    }

    private static String t(String name) {
        return name + "-" + run;
    }

    private static void tenant(String id, String budget) throws SQLException {
        ApiKeys.Generated key = ApiKeys.generate();
        try (Connection c = db.connect()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tenants (id, name, max_priority, monthly_budget) "
                    + "VALUES (?, ?, 'realtime', ?::numeric)")) {
                ps.setString(1, id);
                ps.setString(2, id);
                ps.setString(3, budget);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash) VALUES (?, ?, ?)")) {
                ps.setString(1, key.id());
                ps.setString(2, id);
                ps.setString(3, ApiKeys.hash(key.key()));
                ps.executeUpdate();
            }
        }
        keys.put(id, key.key());
        keyIds.put(id, key.id());
    }

    private HttpResponse<String> submit(String tenant, String priority, String content, String idempotencyKey) {
        String body = "{\"model\":\"" + model + "\",\"priority\":\"" + priority + "\",\"max_tokens\":48,"
                + (idempotencyKey == null ? "" : "\"idempotency_key\":\"" + idempotencyKey + "\",")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
        try {
            return http.send(HttpRequest.newBuilder(URI.create(ingest.url() + "/v1/requests"))
                            .header("Authorization", "Bearer " + keys.get(tenant))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Submits until the answer has {@code status} (bounded); returns the last answer. */
    private HttpResponse<String> submitUntil(String tenant, int status) {
        int[] n = {0};
        return KafkaIo.until(() -> submit(tenant, "high", "probe " + n[0]++, null), r -> r.statusCode() == status);
    }

    /** Rows, prompt and completion tokens, cached prompt tokens and cost of a tenant in {@code usage_records}. */
    private record Billed(long rows, long prompt, long completion, long cached, BigDecimal cost) {
    }

    private static Billed billed(String tenant) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT count(*), "
                + "coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
                + "coalesce(sum(cached_prompt_tokens), 0), coalesce(sum(total_cost), 0) FROM usage_records WHERE tenant_id = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Billed(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getBigDecimal(5));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same sums from {@code usage_hourly} or {@code usage_daily}. */
    private static Billed aggregated(String tenant, String table) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(requests), 0), "
                + "coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
                + "coalesce(sum(cached_prompt_tokens), 0), coalesce(sum(total_cost), 0) FROM " + table + " WHERE tenant_id = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Billed(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getBigDecimal(5));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldBillExactlyTheTokensTheModelServedForEveryTenantAtTheirPrice() {
        String[] levels = {"realtime", "high", "normal", "low"};
        Map<String, Integer> accepted = new HashMap<>();
        List<String> tenants = List.of(t("acme"), t("globex"));
        for (int i = 0; i < 48; i++) {
            // every eighth submission repeats the previous one's idempotency key: one model call, one bill
            boolean repeat = i % 8 == 7;
            int base = repeat ? i - 1 : i;
            String tenant = tenants.get(base % 3 == 0 ? 1 : 0);
            String idem = i % 8 >= 6 ? "idem-" + base : null;
            HttpResponse<String> r = submit(tenant, levels[i % 4], "invariant question " + i + " for " + tenant, idem);
            // a repeated idempotency key answers 200 with the original id and writes nothing
            assertThat(r.statusCode()).as("submission %d: %s", i, r.body()).isEqualTo(repeat ? 200 : 202);
            if (!repeat) {
                accepted.merge(tenant, 1, Integer::sum);
            }
        }

        for (String tenant : tenants) {
            Billed rows = KafkaIo.until(() -> billed(tenant), b -> b.rows() >= accepted.get(tenant));
            assertThat(rows.rows()).as("requests billed for %s", tenant).isEqualTo((long) accepted.get(tenant));
        }
        Map<String, Audit.Usage> served = sim.audit().usageByTenant();
        assertThat(sim.audit().summary().duplicateRequestIds()).as("no call ran twice, so the audit is the truth").isZero();
        for (String tenant : tenants) {
            Billed b = billed(tenant);
            Audit.Usage audit = served.get(tenant);
            assertThat(b.rows()).as("rows of %s", tenant).isEqualTo(audit.calls());
            assertThat(b.prompt()).as("prompt tokens of %s", tenant).isEqualTo(audit.promptTokens());
            assertThat(b.completion()).as("completion tokens of %s", tenant).isEqualTo(audit.completionTokens());
            assertThat(b.cached()).isZero();
            BigDecimal expected = INPUT.multiply(BigDecimal.valueOf(audit.promptTokens()))
                    .add(OUTPUT.multiply(BigDecimal.valueOf(audit.completionTokens()))).divide(MILLION);
            assertThat(b.cost()).as("cost of %s, exactly", tenant).isEqualByComparingTo(expected);
            assertThat(b.cost().setScale(2, RoundingMode.HALF_UP)).as("cost of %s, to the cent", tenant)
                    .isEqualTo(expected.setScale(2, RoundingMode.HALF_UP));
            for (String table : List.of("usage_hourly", "usage_daily")) {
                Billed agg = KafkaIo.until(() -> aggregated(tenant, table), a -> a.rows() >= b.rows());
                assertThat(agg.rows()).as("%s requests of %s", table, tenant).isEqualTo(b.rows());
                assertThat(agg.prompt()).isEqualTo(b.prompt());
                assertThat(agg.completion()).isEqualTo(b.completion());
                assertThat(agg.cost()).as("%s cost of %s", table, tenant).isEqualByComparingTo(b.cost());
            }
        }
    }

    @Test
    void shouldRefuseATenantWith402OnceItsSpendCrossesItsBudgetUntilTheBudgetIsRaised() throws Exception {
        String tenant = t("frugal");
        BigDecimal budget = new BigDecimal("0.000100");

        HttpResponse<String> refused = submitUntil(tenant, 402);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(402);
        JsonNode error = Json.mapper().readTree(refused.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("budget_exceeded");
        assertThat(error.path("message").asText()).contains("USD");
        Billed spent = KafkaIo.until(() -> billed(tenant), b -> b.cost().compareTo(budget) >= 0);
        assertThat(spent.cost()).as("refused only once the spend reached the budget").isGreaterThanOrEqualTo(budget);

        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE tenants SET monthly_budget = 1000 WHERE id = '" + tenant + "'");
        }
        assertThat(submitUntil(tenant, 202).statusCode()).as("admitted once the budget is raised").isEqualTo(202);
    }

    @Test
    void shouldRefuseAKeyRevokedInPostgres() throws Exception {
        String tenant = t("leaky");
        assertThat(submitUntil(tenant, 202).statusCode()).isEqualTo(202);

        long t0 = System.nanoTime();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE api_keys SET revoked_at = now() WHERE id = '" + keyIds.get(tenant) + "'");
        }
        HttpResponse<String> refused = submitUntil(tenant, 401);

        assertThat(refused.statusCode()).isEqualTo(401);
        System.out.printf("key revoked in PostgreSQL to the first 401: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
}
