package llmq.billing.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;

/**
 * Writes billing records into {@code usage_records}, one row per request id, in one
 * transaction per batch. Idempotent: a request id already present is left as it is
 * ({@code ON CONFLICT DO NOTHING}), so replays and restarts never double-count. Duplicates
 * within a batch are merged first (a rewritten multi-row insert fails on a repeated key).
 */
public final class UsageRecordWriter {

    private static final String INSERT = "INSERT INTO usage_records (request_id, tenant_id, model, endpoint, "
            + "prompt_tokens, completion_tokens, cached_prompt_tokens, estimated, currency, input_cost, output_cost, "
            + "total_cost, unpriced, latency_ms, attempt, used_at) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING";

    private UsageRecordWriter() {
    }

    /** Writes {@code records} in one transaction; returns the number of rows inserted. */
    public static int write(Connection c, Collection<BillingRecord> records) throws SQLException {
        Map<String, BillingRecord> unique = new LinkedHashMap<>();
        records.forEach(r -> unique.putIfAbsent(r.getUsage().getRequestId(), r));
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            for (BillingRecord r : unique.values()) {
                UsageEvent u = r.getUsage();
                ps.setString(1, u.getRequestId());
                ps.setString(2, u.getTenantId());
                ps.setString(3, u.getModel());
                ps.setString(4, u.getEndpoint());
                ps.setInt(5, u.getPromptTokens());
                ps.setInt(6, u.getCompletionTokens());
                ps.setInt(7, u.getCachedPromptTokens());
                ps.setBoolean(8, u.getEstimated());
                ps.setString(9, r.getCurrency());
                ps.setBigDecimal(10, r.getInputCost());
                ps.setBigDecimal(11, r.getOutputCost());
                ps.setBigDecimal(12, r.getTotalCost());
                ps.setBoolean(13, r.getUnpriced());
                ps.setLong(14, u.getLatencyMs());
                ps.setInt(15, u.getAttempt());
                ps.setTimestamp(16, Timestamp.from(u.getAt()));
                ps.addBatch();
            }
            int inserted = 0;
            for (int n : ps.executeBatch()) {
                inserted += Math.max(n, 0);
            }
            c.commit();
            return inserted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
