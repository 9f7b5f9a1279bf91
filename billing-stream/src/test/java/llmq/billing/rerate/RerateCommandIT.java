package llmq.billing.rerate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.UsageEvent;
import llmq.common.db.DbConfig;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.Test;

/**
 * The re-rating command against the real topic and PostgreSQL: usage of the range, and only of the
 * range, is priced under the current price table (the row in effect at each usage time) into
 * {@code usage_rerated}; the first usage of a request id counts; what was billed is not touched;
 * running it again changes nothing.
 */
@IntegrationTest
class RerateCommandIT {

    private final Infra infra;
    private final DbConfig db;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String model = "rerate-" + run;

    RerateCommandIT(Infra infra) {
        this.infra = infra;
        this.db = infra.postgres().db();
    }

    private UsageEvent usage(String id, String model, int prompt, int completion, String at) {
        return UsageEvent.newBuilder().setRequestId(id).setTenantId("rerate-tenant-" + run).setModel(model)
                .setEndpoint("sim").setPromptTokens(prompt).setCompletionTokens(completion).setLatencyMs(1)
                .setAt(Instant.parse(at)).build();
    }

    @Test
    void shouldRepriceTheRangeUnderTheCurrentPricesBesideTheBilledRecords() throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO model_prices (model, input_per_million, output_per_million, effective_from) VALUES "
                    + "('" + model + "', 1, 2, '2020-01-01T00:00:00Z'), ('" + model + "', 3, 4, '2020-01-01T12:00:00Z')");
            // what billing had billed for r-morning, at a price since corrected
            st.execute("INSERT INTO usage_records (request_id, tenant_id, model, prompt_tokens, completion_tokens, currency, "
                    + "input_cost, output_cost, total_cost, used_at) VALUES ('r-morning-" + run + "', 'rerate-tenant-" + run
                    + "', '" + model + "', 1000, 1000, 'USD', 0.5, 0.5, 1.0, '2020-01-01T06:00:00Z')");
        }
        List<UsageEvent> usage = List.of(
                usage("r-morning-" + run, model, 1000, 1000, "2020-01-01T06:00:00Z"),
                usage("r-evening-" + run, model, 1_000_000, 500_000, "2020-01-01T13:00:00Z"),
                usage("r-morning-" + run, model, 9, 9, "2020-01-01T07:00:00Z"),
                usage("r-unpriced-" + run, "no-price-" + run, 10, 10, "2020-01-01T08:00:00Z"),
                usage("r-before-" + run, model, 10, 10, "2019-12-31T23:59:59.999Z"),
                usage("r-after-" + run, model, 10, 10, "2020-01-02T00:00:00Z"));
        try (KafkaIo kafka = new KafkaIo(infra)) {
            usage.forEach(u -> kafka.send(infra.catalog().usage(), u.getTenantId(), u));
        }
        String runId = "it-" + run;
        String[] args = {"--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z", "--run-id", runId,
                "--set", "kafka.bootstrap.servers=" + infra.bootstrapServers(), "--set", "registry.url=" + infra.registryUrl(),
                "--set", "db.url=" + infra.postgres().jdbcUrl()};
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int status = RerateCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);

        assertThat(status).as(out.toString(StandardCharsets.UTF_8)).isZero();
        Map<String, BigDecimal> rerated = rerated(runId);
        assertThat(rerated).containsOnlyKeys("r-morning-" + run, "r-evening-" + run, "r-unpriced-" + run);
        // 1000 × 1/M + 1000 × 2/M (the first usage of the id, at the 00:00 row)
        assertThat(rerated.get("r-morning-" + run)).isEqualTo(new BigDecimal("0.003000000000"));
        // 1M × 3/M + 0.5M × 4/M (the 12:00 row)
        assertThat(rerated.get("r-evening-" + run)).isEqualTo(new BigDecimal("5.000000000000"));
        assertThat(rerated.get("r-unpriced-" + run)).isEqualByComparingTo("0");
        assertThat(billedCost("r-morning-" + run)).as("the billed record is untouched").isEqualByComparingTo("1.0");
        String report = out.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("rows in usage_rerated 3 (unpriced 1, not billed yet 2)")
                .contains("USD re-rated 5.003000000000, billed 1.000000000000, difference 4.003000000000");

        assertThat(RerateCommand.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                System.err)).isZero();
        assertThat(rerated(runId)).as("running again adds nothing").isEqualTo(rerated);
    }

    @Test
    void shouldRefuseAnEmptyRangeWithExitStatus2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = RerateCommand.run(new String[] {"--from", "2020-01-02T00:00:00Z", "--to", "2020-01-01T00:00:00Z"},
                System.out, new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--from").contains("must be before --to");
    }

    private Map<String, BigDecimal> rerated(String runId) throws SQLException {
        Map<String, BigDecimal> out = new HashMap<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT request_id, total_cost FROM usage_rerated WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getBigDecimal(2));
                }
            }
        }
        return out;
    }

    private BigDecimal billedCost(String requestId) throws SQLException {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT total_cost FROM usage_records WHERE request_id = ?")) {
            ps.setString(1, requestId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBigDecimal(1);
            }
        }
    }
}
