package llmq.billing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.UsageEvent;
import llmq.testsupport.ReplicationSlots;
import llmq.common.db.DbConfig;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL stopped for 30 seconds under steady usage, then started again: billing keeps taking
 * usage from Kafka, the sink backs off while the database is gone and catches up afterwards, and
 * in the end {@code usage_records} and the aggregates hold exactly the usage produced, nothing lost
 * and nothing doubled; change data capture comes back by itself.
 */
@IntegrationTest
class PostgresOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final BigDecimal INPUT = new BigDecimal("0.400000");
    private static final BigDecimal OUTPUT = new BigDecimal("1.600000");

    private final Infra infra;
    private final DbConfig db;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String model = "outage-" + run;
    private final List<String> tenants = List.of("steady-a-" + run, "steady-b-" + run, "steady-c-" + run);

    PostgresOutageIT(Infra infra) {
        this.infra = infra;
        this.db = infra.postgres().db();
    }

    /** What was produced, summed as the database should sum it. */
    private static final class Produced {
        final AtomicLong count = new AtomicLong();
        final AtomicLong prompt = new AtomicLong();
        final AtomicLong completion = new AtomicLong();
    }

    @Test
    void shouldWriteExactlyTheUsageProducedWhenPostgresWasDownFor30Seconds() throws Exception {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO model_prices (model, input_per_million, output_per_million) VALUES (?, ?, ?)")) {
            ps.setString(1, model);
            ps.setBigDecimal(2, INPUT);
            ps.setBigDecimal(3, OUTPUT);
            ps.executeUpdate();
        }
        String id = "it-outage-" + run;
        String slot = "it_outage_" + run;
        Produced produced = new Produced();
        AtomicBoolean producing = new AtomicBoolean(true);
        try (KafkaIo kafka = new KafkaIo(infra)) {
            kafka.startGroupAtEnd(id, List.of(infra.catalog().usage().name()));
            kafka.startGroupAtEnd(id + "-sink", List.of(infra.catalog().billing().name()));
            try (BillingService service = BillingService.start(infra.settings(Map.of(
                    "billing.application-id", id,
                    "billing.state-dir", infra.newDirectory("outage-state").toString(),
                    "billing.sink.group-id", id + "-sink",
                    "billing.admin.port", "0",
                    "billing.cdc.slot", slot,
                    "billing.cdc.name", id + "-cdc",
                    "billing.cdc.heartbeat-interval", "1s")))) {
                Thread producer = new Thread(() -> produce(kafka, produced, producing), "outage-it-usage");
                producer.start();
                try {
                    awaitRowCount(p -> p > 0);
                    infra.postgres().stop();
                    long stoppedAt = System.nanoTime();
                    JsonNode down = KafkaIo.until(() -> health(service), h -> "DOWN".equals(
                            h.path("checks").path("postgres-sink").path("status").asText()));
                    assertThat(down.path("checks").path("postgres-sink").path("status").asText()).isEqualTo("DOWN");
                    long countAtStop = produced.count.get();
                    // the outage itself: usage keeps arriving while PostgreSQL is gone
                    Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - stoppedAt) / 1_000_000));
                    assertThat(produced.count.get()).as("usage kept flowing during the outage").isGreaterThan(countAtStop + 100);
                    infra.postgres().start();
                    Thread.sleep(3_000); // steady usage goes on after the restart too
                } finally {
                    producing.set(false);
                    producer.join(10_000);
                    if (!infra.postgres().running()) {
                        infra.postgres().start();
                    }
                }

                long rows = awaitRowCount(p -> p >= produced.count.get());
                assertThat(rows).as("one row per usage produced").isEqualTo(produced.count.get());
                long[] sums = sums("usage_records", "count(*)");
                assertThat(sums[0]).isEqualTo(produced.count.get());
                assertThat(sums[1]).as("prompt tokens").isEqualTo(produced.prompt.get());
                assertThat(sums[2]).as("completion tokens").isEqualTo(produced.completion.get());
                BigDecimal expectedCost = INPUT.multiply(BigDecimal.valueOf(produced.prompt.get()))
                        .add(OUTPUT.multiply(BigDecimal.valueOf(produced.completion.get()))).divide(BigDecimal.valueOf(1_000_000));
                assertThat(cost("usage_records")).as("cost, exactly").isEqualByComparingTo(expectedCost);
                long[] hourly = KafkaIo.until(() -> sums("usage_hourly", "sum(requests)"), h -> h[0] >= produced.count.get());
                assertThat(hourly).as("hourly aggregates").containsExactly(sums);
                assertThat(cost("usage_hourly")).isEqualByComparingTo(expectedCost);
                assertThat(KafkaIo.until(() -> health(service), h -> "UP".equals(h.path("status").asText()))
                        .path("checks").toString()).as("sink and change data capture recovered").doesNotContain("DOWN");
            }
        } finally {
            ReplicationSlots.drop(infra, slot);
        }
    }

    private void produce(KafkaIo kafka, Produced produced, AtomicBoolean producing) {
        int i = 0;
        while (producing.get()) {
            int prompt = 10 + i % 97;
            int completion = 1 + (i * 7) % 211;
            UsageEvent u = UsageEvent.newBuilder()
                    .setRequestId(UUID.randomUUID().toString()).setTenantId(tenants.get(i % tenants.size()))
                    .setModel(model).setEndpoint("sim").setPromptTokens(prompt).setCompletionTokens(completion)
                    .setLatencyMs(3).setAt(Instant.now().truncatedTo(ChronoUnit.MILLIS)).build();
            kafka.send(infra.catalog().usage(), u.getTenantId(), u);
            if (i % 10 == 0) {
                kafka.send(infra.catalog().usage(), u.getTenantId(), u); // a duplicate now and then: billed once
            }
            produced.count.incrementAndGet();
            produced.prompt.addAndGet(prompt);
            produced.completion.addAndGet(completion);
            i++;
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private long awaitRowCount(java.util.function.LongPredicate done) {
        return KafkaIo.until(() -> sums("usage_records", "count(*)")[0], done::test);
    }

    /** [requests, prompt tokens, completion tokens] of our tenants in {@code table} (-1s while PostgreSQL is down). */
    private long[] sums(String table, String requests) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT coalesce(" + requests
                + ", 0), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0) FROM " + table
                + " WHERE tenant_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", tenants.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
            }
        } catch (SQLException e) {
            return new long[] {-1, -1, -1};
        }
    }

    private BigDecimal cost(String table) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(sum(total_cost), 0) FROM " + table + " WHERE tenant_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", tenants.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBigDecimal(1);
            }
        }
    }

    private JsonNode health(BillingService service) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.adminPort() + "/health")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return Json.mapper().readTree(r.body());
        } catch (Exception e) {
            return Json.mapper().createObjectNode();
        }
    }
}
