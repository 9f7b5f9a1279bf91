package llmq.ingest.support;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import llmq.avro.ApiKey;
import llmq.avro.ModelPrice;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.common.db.DbConfig;
import llmq.testsupport.Infra;
import llmq.testsupport.KafkaIo;

/**
 * Stands in for billing-stream's change data capture in this module's tests (billing depends on
 * ingest-api, not the other way round): publishes every row of {@code tenants}, {@code api_keys} and
 * {@code model_prices} to {@code llm.config.*} as the Debezium engine does (key: row id). The engine
 * itself is tested in billing-stream ({@code CdcEngineIT}, {@code PipelineInvariantIT}).
 */
public final class ConfigTables {

    private ConfigTables() {
    }

    public static void publish(Infra infra, DbConfig db) {
        try (Connection c = db.connect(); Statement st = c.createStatement(); KafkaIo io = new KafkaIo(infra)) {
            try (ResultSet rs = st.executeQuery("SELECT id, name, tier, default_priority, max_priority, weight, rpm_limit, "
                    + "tpm_limit, monthly_budget, updated_at FROM tenants")) {
                while (rs.next()) {
                    io.send(infra.catalog().configTenants(), rs.getString(1), Tenant.newBuilder().setId(rs.getString(1))
                            .setName(rs.getString(2)).setTier(rs.getString(3))
                            .setDefaultPriority(Priority.valueOf(rs.getString(4).toUpperCase()))
                            .setMaxPriority(Priority.valueOf(rs.getString(5).toUpperCase()))
                            .setWeight(rs.getBigDecimal(6).doubleValue()).setRpmLimit((Integer) rs.getObject(7))
                            .setTpmLimit((Integer) rs.getObject(8))
                            .setMonthlyBudget(rs.getBigDecimal(9) == null ? null : rs.getBigDecimal(9).setScale(6))
                            .setUpdatedAt(rs.getTimestamp(10).toInstant()).build());
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT id, tenant_id, key_hash, name, created_at, revoked_at FROM api_keys")) {
                while (rs.next()) {
                    io.send(infra.catalog().configApiKeys(), rs.getString(1), ApiKey.newBuilder().setId(rs.getString(1))
                            .setTenantId(rs.getString(2)).setKeyHash(rs.getString(3)).setName(rs.getString(4))
                            .setCreatedAt(rs.getTimestamp(5).toInstant())
                            .setRevokedAt(rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toInstant()).build());
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT id, model, currency, input_per_million, output_per_million, "
                    + "cached_input_per_million, effective_from FROM model_prices")) {
                while (rs.next()) {
                    io.send(infra.catalog().configPrices(), Long.toString(rs.getLong(1)), ModelPrice.newBuilder()
                            .setId(rs.getLong(1)).setModel(rs.getString(2)).setCurrency(rs.getString(3))
                            .setInputPerMillion(rs.getBigDecimal(4).setScale(6)).setOutputPerMillion(rs.getBigDecimal(5).setScale(6))
                            .setCachedInputPerMillion(rs.getBigDecimal(6) == null ? null : rs.getBigDecimal(6).setScale(6))
                            .setEffectiveFrom(rs.getTimestamp(7).toInstant()).build());
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
