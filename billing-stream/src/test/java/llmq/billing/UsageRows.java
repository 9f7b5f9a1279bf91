package llmq.billing;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import llmq.common.db.DbConfig;

/** Reads {@code usage_records} rows back for integration tests. */
public final class UsageRows {

    /** One row of {@code usage_records}, as stored. */
    public record Row(String requestId, String tenantId, String model, int promptTokens, int completionTokens,
                      int cachedPromptTokens, String currency, BigDecimal inputCost, BigDecimal outputCost,
                      BigDecimal totalCost, boolean unpriced, Instant usedAt) {
    }

    private UsageRows() {
    }

    /** The rows of these request ids, by request id (absent ids are not in the map). */
    public static Map<String, Row> of(DbConfig db, Collection<String> requestIds) {
        Map<String, Row> out = new HashMap<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT request_id, tenant_id, model, prompt_tokens, "
                     + "completion_tokens, cached_prompt_tokens, currency, input_cost, output_cost, total_cost, unpriced, used_at "
                     + "FROM usage_records WHERE request_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", requestIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row r = new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                            rs.getInt(6), rs.getString(7), rs.getBigDecimal(8), rs.getBigDecimal(9),
                            rs.getBigDecimal(10), rs.getBoolean(11), rs.getTimestamp(12).toInstant());
                    out.put(r.requestId(), r);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read usage_records", e);
        }
        return out;
    }
}
