package llmq.billing;

import llmq.testsupport.ReplicationSlots;
import llmq.testsupport.KafkaIo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;
import llmq.testsupport.KafkaIo.Received;
import llmq.billing.UsageRows.Row;
import llmq.common.db.DbConfig;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.topics.catalog.TopicCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * billing-stream against the real broker, registry and PostgreSQL: usage events become exactly
 * one {@code usage_records} row and one {@code llm.billing} record per request id with exact
 * decimal costs from the {@code model_prices} table; usage sent twice, and again after a
 * restart, is billed once; usage of a model without a price is billed at zero and flagged; and
 * while PostgreSQL refuses writes the sink holds the records, reports DOWN, and afterwards
 * writes every one of them exactly once.
 */
@IntegrationTest
class BillingServiceIT {

    /** Per million tokens: input 0.15, output 0.60, cached input 0.075. */
    private static final String INPUT_PRICE = "0.150000";
    private static final String OUTPUT_PRICE = "0.600000";
    private static final String CACHED_PRICE = "0.075000";

    private final Infra infra;
    private final TopicCatalog catalog;
    private final DbConfig db;
    private final KafkaIo kafka;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Deque<AutoCloseable> running = new ArrayDeque<>();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String pricedModel = "priced-" + run;
    /** The deployment last started. */
    private Deployment current;

    /** One billing-stream deployment: its Streams application, state, sink group and CDC slot. */
    private record Deployment(String applicationId, Path stateDir, String sinkGroup, String slot) {
    }

    private final java.util.Set<String> slots = new java.util.LinkedHashSet<>();

    BillingServiceIT(Infra infra) throws SQLException {
        this.infra = infra;
        this.catalog = infra.catalog();
        this.db = infra.postgres().db();
        this.kafka = new KafkaIo(infra);
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO model_prices (model, currency, input_per_million, "
                     + "output_per_million, cached_input_per_million) VALUES (?, 'USD', ?, ?, ?)")) {
            ps.setString(1, pricedModel);
            ps.setBigDecimal(2, new BigDecimal(INPUT_PRICE));
            ps.setBigDecimal(3, new BigDecimal(OUTPUT_PRICE));
            ps.setBigDecimal(4, new BigDecimal(CACHED_PRICE));
            ps.executeUpdate();
        }
    }

    @AfterEach
    void stopEverything() throws Exception {
        while (!running.isEmpty()) {
            running.pop().close();
        }
        kafka.close();
        slots.forEach(slot -> ReplicationSlots.drop(infra, slot));
    }

    @Test
    void shouldBillEachRequestOnceWithExactDecimalCosts() {
        start(newDeployment());
        String acme = tenant("acme");
        String globex = tenant("globex");
        UsageEvent mixed = usage(acme, pricedModel, 1234, 567, 200);
        UsageEvent tiny = usage(acme, pricedModel, 1, 1, 0);
        UsageEvent huge = usage(globex, pricedModel, 1_000_000, 2_000_000, 0);
        // input: uncached × 0.15 + cached × 0.075; output: × 0.60; all per million tokens
        Map<String, String[]> expected = Map.of(
                mixed.getRequestId(), new String[] {"0.000170100000", "0.000340200000", "0.000510300000"},
                tiny.getRequestId(), new String[] {"0.000000150000", "0.000000600000", "0.000000750000"},
                huge.getRequestId(), new String[] {"0.150000000000", "1.200000000000", "1.350000000000"});
        List<UsageEvent> sent = List.of(mixed, tiny, huge);
        sent.forEach(this::send);

        Map<String, Row> rows = awaitRows(ids(sent));

        assertThat(rows).containsOnlyKeys(expected.keySet());
        for (UsageEvent u : sent) {
            Row row = rows.get(u.getRequestId());
            String[] cost = expected.get(u.getRequestId());
            assertThat(row.tenantId()).isEqualTo(u.getTenantId());
            assertThat(row.model()).isEqualTo(pricedModel);
            assertThat(row.promptTokens()).isEqualTo(u.getPromptTokens());
            assertThat(row.completionTokens()).isEqualTo(u.getCompletionTokens());
            assertThat(row.cachedPromptTokens()).isEqualTo(u.getCachedPromptTokens());
            assertThat(row.currency()).isEqualTo("USD");
            assertThat(row.inputCost()).isEqualTo(new BigDecimal(cost[0]));
            assertThat(row.outputCost()).isEqualTo(new BigDecimal(cost[1]));
            assertThat(row.totalCost()).isEqualTo(new BigDecimal(cost[2]));
            assertThat(row.unpriced()).isFalse();
            assertThat(row.usedAt()).isEqualTo(u.getAt());
        }
        Map<String, List<Received<BillingRecord>>> billed = billedOnce(sent);
        billed.forEach((id, records) -> {
            Received<BillingRecord> b = records.get(0);
            assertThat(b.key()).isEqualTo(b.value().getUsage().getTenantId());
            assertThat(b.value().getTotalCost()).isEqualTo(new BigDecimal(expected.get(id)[2]));
            assertThat(b.value().getInputPricePerMillion()).isEqualByComparingTo(INPUT_PRICE);
        });
    }

    @Test
    void shouldBillAUsageEventOnceWhenItArrivesTwiceAndAgainAfterARestart() throws Exception {
        Deployment deployment = newDeployment();
        BillingService service = start(deployment);
        String tenant = tenant("acme");
        UsageEvent repeated = usage(tenant, pricedModel, 300, 100, 0);
        UsageEvent next = usage(tenant, pricedModel, 10, 10, 0);
        send(repeated);
        send(repeated);
        send(next);
        assertThat(awaitRows(ids(List.of(repeated, next)))).hasSize(2);
        assertThat(billedOnce(List.of(repeated, next))).hasSize(2);

        service.close();
        running.remove(service);
        start(deployment);
        UsageEvent afterRestart = usage(tenant, pricedModel, 20, 20, 0);
        send(repeated);
        send(afterRestart); // same tenant, so same partition: billed only after the repeat was seen
        Map<String, Row> rows = awaitRows(ids(List.of(repeated, next, afterRestart)));

        assertThat(rows).hasSize(3);
        assertThat(rows.get(repeated.getRequestId()).totalCost()).isEqualTo(new BigDecimal("0.000105000000"));
        assertThat(billedOnce(List.of(repeated, next, afterRestart))).hasSize(3);
    }

    @Test
    void shouldBillUsageOfAnUnpricedModelAtZeroAndFlagIt() {
        start(newDeployment());
        UsageEvent u = usage(tenant("acme"), "unpriced-" + run, 500, 50, 0);
        send(u);

        Row row = awaitRows(List.of(u.getRequestId())).get(u.getRequestId());

        BigDecimal zero = new BigDecimal("0.000000000000");
        assertThat(row).isNotNull();
        assertThat(row.unpriced()).isTrue();
        assertThat(row.promptTokens()).isEqualTo(500);
        assertThat(row.inputCost()).isEqualTo(zero);
        assertThat(row.outputCost()).isEqualTo(zero);
        assertThat(row.totalCost()).isEqualTo(zero);
        assertThat(billedOnce(List.of(u)).get(u.getRequestId()).get(0).value()).satisfies(b -> {
            assertThat(b.getUnpriced()).isTrue();
            assertThat(b.getInputPricePerMillion()).isNull();
        });
        assertThat(metric(current(), "llmq_billing_unpriced_usage_total")).as("unpriced usage counted").isPositive();
        assertThat(metric(current(), "llmq_billing_cdc_up")).as("change stream up").isEqualTo(1);
        assertThat(metric(current(), "llmq_billing_usage_events_total")).isPositive();
    }

    @Test
    void shouldHoldBilledUsageWhilePostgresRefusesWritesAndThenWriteEachOnce() throws Exception {
        BillingService service = start(newDeployment());
        UsageEvent before = usage(tenant("acme"), pricedModel, 1, 1, 0);
        send(before);
        assertThat(awaitRows(List.of(before.getRequestId()))).hasSize(1);
        assertThat(health(service).path("status").asText()).isEqualTo("UP");

        List<UsageEvent> during = new ArrayList<>();
        try {
            onUsageRecords("REVOKE INSERT ON usage_records FROM llmq");
            for (int i = 0; i < 5; i++) {
                UsageEvent u = usage(tenant(i % 2 == 0 ? "acme" : "globex"), pricedModel, 100 + i, 10, 0);
                during.add(u);
                send(u);
            }
            // priced and on llm.billing, but the sink cannot write them
            assertThat(kafka.await(catalog.billing(), b -> ids(during).contains(b.value().getUsage().getRequestId()),
                    during.size())).hasSize(during.size());
            JsonNode down = KafkaIo.until(() -> health(service),
                    h -> "DOWN".equals(h.path("checks").path("postgres-sink").path("status").asText()));
            assertThat(down.path("status").asText()).isEqualTo("DOWN");
            assertThat(down.path("checks").path("postgres-sink").path("status").asText()).isEqualTo("DOWN");
            assertThat(UsageRows.of(db, ids(during))).isEmpty();
        } finally {
            onUsageRecords("GRANT INSERT ON usage_records TO llmq");
        }

        Map<String, Row> rows = awaitRows(ids(during));
        assertThat(rows).containsOnlyKeys(ids(during));
        assertThat(KafkaIo.until(() -> health(service), h -> "UP".equals(h.path("status").asText()))
                .path("status").asText()).isEqualTo("UP");
        assertThat(billedOnce(during)).hasSize(during.size());
        assertThat(metric(service, "llmq_billing_sink_rows_total")).as("rows inserted by this sink")
                .isEqualTo(1 + during.size());
        assertThat(metric(service, "llmq_billing_sink_errors_total")).as("failed writes").isPositive();
    }

    @Test
    void shouldPriceUsageAtAPriceUpdatedInPostgresWithoutARestart() throws Exception {
        start(newDeployment());
        String tenant = tenant("acme");
        UsageEvent before = usage(tenant, pricedModel, 1_000_000, 0, 0);
        send(before);
        assertThat(awaitRows(List.of(before.getRequestId())).get(before.getRequestId()).totalCost())
                .isEqualTo(new BigDecimal("0.150000000000"));

        long t0 = System.nanoTime();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE model_prices SET input_per_million = 0.300000 WHERE model = '" + pricedModel + "'");
        }
        // usage keeps flowing; from some point on it is priced at the new price, with no restart
        BillingRecord repriced = KafkaIo.until(() -> {
            UsageEvent u = usage(tenant, pricedModel, 1_000_000, 0, 0);
            send(u);
            return billed(u);
        }, b -> b != null && b.getInputPricePerMillion().compareTo(new BigDecimal("0.3")) == 0);
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;

        assertThat(repriced).isNotNull();
        assertThat(repriced.getInputPricePerMillion()).isEqualByComparingTo("0.3");
        assertThat(repriced.getTotalCost()).isEqualTo(new BigDecimal("0.300000000000"));
        System.out.printf("price change in PostgreSQL to the first usage billed at it: %d ms%n", elapsedMs);
    }

    @Test
    void shouldUpsertHourlyAndDailyAggregatesEqualToTheUsageRowsAndServeThemOverHttp() throws Exception {
        BillingService service = start(newDeployment());
        String acme = tenant("acme");
        String globex = tenant("globex");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<UsageEvent> sent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            UsageEvent u = usage(i % 3 == 0 ? globex : acme, i % 4 == 0 ? "unpriced-" + run : pricedModel, 100 + i, 7 * i, i);
            u.setAt(now.minus(Duration.ofMinutes(5L * i)));
            sent.add(u);
            send(u);
        }
        send(sent.get(3)); // a duplicate changes nothing
        awaitRows(ids(sent));

        for (String tenant : List.of(acme, globex)) {
            Map<String, Sums> expectedHourly = sums(tenant, "date_trunc('hour', used_at AT TIME ZONE 'UTC')::text || '|' || model");
            Map<String, Sums> hourly = KafkaIo.until(() -> aggregateRows(tenant, "usage_hourly",
                    "(hour_start AT TIME ZONE 'UTC')::text || '|' || model"), expectedHourly::equals);
            assertThat(hourly).isEqualTo(expectedHourly);
            Map<String, Sums> expectedDaily = sums(tenant, "(used_at AT TIME ZONE 'UTC')::date::text");
            assertThat(KafkaIo.until(() -> aggregateRows(tenant, "usage_daily", "day::text"), expectedDaily::equals))
                    .isEqualTo(expectedDaily);
        }

        JsonNode hours = get(service, "/v1/usage?tenant=" + acme + "&granularity=hour&from="
                + now.minus(Duration.ofHours(3)) + "&to=" + now.plusSeconds(1), this::json);
        Sums acmeTotal = sums(acme, "'all'").get("all");
        assertThat(hours.path("tenant").asText()).isEqualTo(acme);
        assertThat(hours.path("buckets").size()).isPositive();
        assertThat(hours.path("totals").path("USD").path("requests").asLong()).isEqualTo(acmeTotal.requests());
        assertThat(hours.path("totals").path("USD").path("prompt_tokens").asLong()).isEqualTo(acmeTotal.prompt());
        assertThat(new BigDecimal(hours.path("totals").path("USD").path("total_cost").asText()))
                .isEqualByComparingTo(acmeTotal.cost());
        JsonNode days = get(service, "/v1/usage?tenant=" + acme + "&granularity=day&from="
                + now.minus(Duration.ofDays(2)) + "&to=" + now.plusSeconds(1), this::json);
        assertThat(new BigDecimal(days.path("totals").path("USD").path("total_cost").asText()))
                .isEqualByComparingTo(acmeTotal.cost());
        JsonNode month = get(service, "/v1/usage/month-to-date?tenant=" + acme, this::json);
        assertThat(month.path("month").asText()).isEqualTo(now.toString().substring(0, 7));
        assertThat(month.path("budget").isNull()).isTrue();
        assertThat(get(service, "/v1/usage?granularity=hour", this::json).path("error").path("field").asText())
                .isEqualTo("tenant");
    }

    /** Per group of {@code usage_records} of {@code tenant}: requests, prompt and completion tokens, total cost. */
    private Map<String, Sums> sums(String tenant, String groupBy) {
        return query("SELECT " + groupBy + ", count(*), sum(prompt_tokens), sum(completion_tokens), sum(total_cost) "
                + "FROM usage_records WHERE tenant_id = ? GROUP BY 1", tenant);
    }

    private Map<String, Sums> aggregateRows(String tenant, String table, String key) {
        return query("SELECT " + key + ", sum(requests), sum(prompt_tokens), sum(completion_tokens), sum(total_cost) "
                + "FROM " + table + " WHERE tenant_id = ? GROUP BY 1", tenant);
    }

    /** Sums of one group; the cost without trailing zeros, so equal amounts are equal records. */
    private record Sums(long requests, long prompt, long completion, BigDecimal cost) {
    }

    private Map<String, Sums> query(String sql, String tenant) {
        Map<String, Sums> out = new java.util.TreeMap<>();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, tenant);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new Sums(rs.getLong(2), rs.getLong(3), rs.getLong(4),
                            rs.getBigDecimal(5).stripTrailingZeros()));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** The billing record of {@code u} once it is on {@code llm.billing}, or null. */
    private BillingRecord billed(UsageEvent u) {
        List<Received<BillingRecord>> found = kafka.await(catalog.billing(),
                b -> b.value().getUsage().getRequestId().equals(u.getRequestId()), 1);
        return found.isEmpty() ? null : found.get(0).value();
    }

    /** A new application id, state dir and sink group, starting at the current end of the topics. */
    private Deployment newDeployment() {
        String id = "it-billing-" + UUID.randomUUID();
        Deployment d = new Deployment(id, infra.newDirectory("billing-state"), id + "-sink",
                "it_billing_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
        kafka.startGroupAtEnd(d.applicationId(), List.of(catalog.usage().name()));
        kafka.startGroupAtEnd(d.sinkGroup(), List.of(catalog.billing().name()));
        return d;
    }

    private BillingService start(Deployment d) {
        try {
            BillingService service = BillingService.start(infra.settings(Map.of(
                    "billing.application-id", d.applicationId(),
                    "billing.state-dir", d.stateDir().toString(),
                    "billing.sink.group-id", d.sinkGroup(),
                    "billing.admin.port", "0",
                    "billing.cdc.slot", d.slot(),
                    "billing.cdc.name", d.applicationId() + "-cdc",
                    "billing.cdc.heartbeat-interval", "1s")));
            slots.add(d.slot());
            running.push(service);
            current = d;
            return service;
        } catch (Exception e) {
            throw new IllegalStateException("billing-stream did not start", e);
        }
    }

    private BillingService current() {
        return (BillingService) running.peek();
    }

    private void send(UsageEvent u) {
        kafka.send(catalog.usage(), u.getTenantId(), u);
    }

    private String tenant(String name) {
        return name + "-" + run;
    }

    private static UsageEvent usage(String tenant, String model, int prompt, int completion, int cached) {
        return UsageEvent.newBuilder()
                .setRequestId(UUID.randomUUID().toString())
                .setTenantId(tenant).setModel(model).setEndpoint("sim")
                .setPromptTokens(prompt).setCompletionTokens(completion).setCachedPromptTokens(cached)
                .setLatencyMs(42).setAttempt(1)
                .setAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .build();
    }

    private static List<String> ids(Collection<UsageEvent> usage) {
        return usage.stream().map(UsageEvent::getRequestId).toList();
    }

    /** Waits until every id has its row, and returns the rows found. */
    private Map<String, Row> awaitRows(Collection<String> ids) {
        return KafkaIo.until(() -> UsageRows.of(db, ids), rows -> rows.size() == ids.size());
    }

    /**
     * Once the Streams app has committed everything sent so far, the {@code llm.billing}
     * records of {@code usage} by request id; asserts there is exactly one for each.
     */
    private Map<String, List<Received<BillingRecord>>> billedOnce(List<UsageEvent> usage) {
        kafka.awaitCaughtUp(current.applicationId(), List.of(catalog.usage().name()));
        List<String> ids = ids(usage);
        Map<String, List<Received<BillingRecord>>> billed = kafka.readAll(catalog.billing(),
                        b -> ids.contains(b.value().getUsage().getRequestId())).stream()
                .collect(Collectors.groupingBy(b -> b.value().getUsage().getRequestId()));
        assertThat(billed).containsOnlyKeys(ids).allSatisfy((id, records) ->
                assertThat(records).as("billing records of %s", id).hasSize(1));
        return billed;
    }

    private void onUsageRecords(String sql) throws SQLException {
        try (Connection c = infra.postgres().superuser(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private JsonNode health(BillingService service) {
        return get(service, "/health", this::json);
    }

    private long metric(BillingService service, String name) {
        String text = get(service, "/metrics", Function.identity());
        return text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private <T> T get(BillingService service, String path, Function<String, T> parse) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.adminPort() + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return parse.apply(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode json(String body) {
        try {
            return Json.mapper().readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + body, e);
        }
    }
}
