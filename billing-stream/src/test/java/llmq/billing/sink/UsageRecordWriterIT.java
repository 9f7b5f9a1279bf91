package llmq.billing.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;
import llmq.billing.UsageRows;
import llmq.billing.UsageRows.Row;
import llmq.common.db.DbConfig;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UsageRecordWriter} against the real PostgreSQL schema: one row per request id with its
 * exact decimal costs, duplicates within a batch merged (the first one wins), a batch written
 * again inserts nothing, and a batch that fails leaves no row behind.
 */
@IntegrationTest
class UsageRecordWriterIT {

    private final DbConfig db;
    private final String tenant = "writer-" + UUID.randomUUID().toString().substring(0, 8);
    private Connection connection;

    UsageRecordWriterIT(Infra infra) {
        this.db = infra.postgres().db();
    }

    @BeforeEach
    void connect() throws SQLException {
        connection = db.connect();
    }

    @AfterEach
    void disconnect() throws SQLException {
        connection.close();
    }

    @Test
    void shouldWriteOneRowPerRequestIdKeepingTheFirstOfDuplicatesInABatch() throws SQLException {
        BillingRecord a = record(id(), 100, 20, "0.000123000000");
        BillingRecord b = record(id(), 7, 3, "0.000000000001");
        BillingRecord aAgain = record(a.getUsage().getRequestId(), 999, 999, "9.000000000000");

        int inserted = UsageRecordWriter.write(connection, List.of(a, b, aAgain));

        assertThat(inserted).isEqualTo(2);
        Map<String, Row> rows = rows(a, b);
        assertThat(rows).hasSize(2);
        assertThat(rows.get(a.getUsage().getRequestId())).satisfies(r -> {
            assertThat(r.tenantId()).isEqualTo(tenant);
            assertThat(r.promptTokens()).isEqualTo(100);
            assertThat(r.completionTokens()).isEqualTo(20);
            assertThat(r.totalCost()).isEqualTo(new BigDecimal("0.000123000000"));
            assertThat(r.usedAt()).isEqualTo(a.getUsage().getAt());
        });
        // 1E-12 in BigDecimal's own notation: must still arrive as the exact decimal
        assertThat(rows.get(b.getUsage().getRequestId()).totalCost()).isEqualTo(new BigDecimal("0.000000000001"));
        assertThat(connection.getAutoCommit()).as("auto-commit restored").isTrue();
    }

    @Test
    void shouldInsertNothingWhenTheSameBatchIsWrittenAgain() throws SQLException {
        List<BillingRecord> batch = List.of(record(id(), 10, 1, "0.000001000000"), record(id(), 20, 2, "0.000002000000"),
                record(id(), 30, 3, "0.000003000000"));
        assertThat(UsageRecordWriter.write(connection, batch)).isEqualTo(3);
        Map<String, Row> before = rows(batch.toArray(BillingRecord[]::new));

        assertThat(UsageRecordWriter.write(connection, batch)).isZero();

        assertThat(rows(batch.toArray(BillingRecord[]::new))).isEqualTo(before);
        BillingRecord fresh = record(id(), 40, 4, "0.000004000000");
        assertThat(UsageRecordWriter.write(connection, List.of(batch.get(0), fresh))).isEqualTo(1);
    }

    @Test
    void shouldLeaveNoRowOfABatchThatFails() throws SQLException {
        BillingRecord good = record(id(), 10, 1, "0.000001000000");
        // more than numeric(38, 12) holds: PostgreSQL refuses the row, and with it the whole batch
        BillingRecord overflowing = record(id(), 10, 1, "1" + "0".repeat(30) + ".000000000000");

        assertThatThrownBy(() -> UsageRecordWriter.write(connection, List.of(good, overflowing)))
                .isInstanceOf(SQLException.class);

        assertThat(rows(good, overflowing)).isEmpty();
        assertThat(UsageRecordWriter.write(connection, List.of(good))).as("the connection is usable again").isEqualTo(1);
    }

    private BillingRecord record(String requestId, int prompt, int completion, String totalCost) {
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        UsageEvent usage = UsageEvent.newBuilder()
                .setRequestId(requestId).setTenantId(tenant).setModel("writer-model").setEndpoint("sim")
                .setPromptTokens(prompt).setCompletionTokens(completion)
                .setLatencyMs(12).setAt(at)
                .build();
        BigDecimal zero = BigDecimal.ZERO.setScale(12);
        return BillingRecord.newBuilder()
                .setUsage(usage).setCurrency("USD")
                .setInputCost(zero).setOutputCost(new BigDecimal(totalCost)).setTotalCost(new BigDecimal(totalCost))
                .setBilledAt(at)
                .build();
    }

    private Map<String, Row> rows(BillingRecord... records) {
        return UsageRows.of(db, Arrays.stream(records).map(r -> r.getUsage().getRequestId()).toList());
    }

    private static String id() {
        return UUID.randomUUID().toString();
    }
}
