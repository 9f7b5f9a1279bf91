package llmq.ingest.admin;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import llmq.common.auth.ApiKeys;
import llmq.common.db.DbConfig;
import llmq.ingest.submit.ApiException;

/**
 * The admin API's PostgreSQL side: tenants, API keys (hashes only) and model prices. This is the
 * only database access ingest-api has, and only admin calls use it; admission reads the same rows
 * from the {@code llm.config.*} topics that billing's change data capture fills, so a change made
 * here reaches admission within a second or so. A connection per call (admin traffic is rare).
 */
public final class AdminStore {

    /** A row of {@code tenants}. */
    public record TenantRow(String id, String name, String tier, String defaultPriority, String maxPriority,
                            BigDecimal weight, Integer rpmLimit, Integer tpmLimit, BigDecimal monthlyBudget,
                            Instant createdAt, Instant updatedAt) {
    }

    /** A row of {@code api_keys} as listed (never the hash). */
    public record KeyRow(String id, String tenantId, String name, Instant createdAt, Instant revokedAt) {
    }

    /** A row of {@code model_prices}. */
    public record PriceRow(long id, String model, String currency, BigDecimal inputPerMillion,
                           BigDecimal outputPerMillion, BigDecimal cachedInputPerMillion, Instant effectiveFrom) {
    }

    private static final String TENANT_COLUMNS = "id, name, tier, default_priority, max_priority, weight, rpm_limit, "
            + "tpm_limit, monthly_budget, created_at, updated_at";

    private final DbConfig db;

    public AdminStore(DbConfig db) {
        this.db = db;
    }

    public TenantRow createTenant(TenantRow t) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tenants (id, name, tier, default_priority, "
                    + "max_priority, weight, rpm_limit, tpm_limit, monthly_budget) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (id) DO NOTHING RETURNING " + TENANT_COLUMNS)) {
                ps.setString(1, t.id());
                ps.setString(2, t.name());
                ps.setString(3, t.tier());
                ps.setString(4, t.defaultPriority());
                ps.setString(5, t.maxPriority());
                ps.setBigDecimal(6, t.weight());
                setInt(ps, 7, t.rpmLimit());
                setInt(ps, 8, t.tpmLimit());
                ps.setBigDecimal(9, t.monthlyBudget());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ApiException(409, "conflict", "id", "tenant " + t.id() + " already exists");
                    }
                    return tenant(rs);
                }
            }
        });
    }

    /** Replaces a tenant's settable columns; 404 if there is none. */
    public TenantRow updateTenant(TenantRow t) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tenants SET name = ?, tier = ?, default_priority = ?, "
                    + "max_priority = ?, weight = ?, rpm_limit = ?, tpm_limit = ?, monthly_budget = ?, updated_at = now() "
                    + "WHERE id = ? RETURNING " + TENANT_COLUMNS)) {
                ps.setString(1, t.name());
                ps.setString(2, t.tier());
                ps.setString(3, t.defaultPriority());
                ps.setString(4, t.maxPriority());
                ps.setBigDecimal(5, t.weight());
                setInt(ps, 6, t.rpmLimit());
                setInt(ps, 7, t.tpmLimit());
                ps.setBigDecimal(8, t.monthlyBudget());
                ps.setString(9, t.id());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ApiException.notFound("tenant", t.id());
                    }
                    return tenant(rs);
                }
            }
        });
    }

    public Optional<TenantRow> tenant(String id) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(tenant(rs)) : Optional.empty();
                }
            }
        });
    }

    public List<TenantRow> tenants() {
        return call(c -> {
            List<TenantRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + TENANT_COLUMNS + " FROM tenants ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(tenant(rs));
                }
            }
            return out;
        });
    }

    /** A new key for {@code tenantId}: the key itself is returned once, only its hash is stored. */
    public ApiKeys.Generated createKey(String tenantId, String name) {
        ApiKeys.Generated key = ApiKeys.generate();
        call(c -> {
            if (tenant(c, tenantId).isEmpty()) {
                throw new ApiException(404, "not_found", "tenant_id", "no tenant " + tenantId);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash, name) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, key.id());
                ps.setString(2, tenantId);
                ps.setString(3, ApiKeys.hash(key.key()));
                ps.setString(4, name);
                ps.executeUpdate();
            }
            return null;
        });
        return key;
    }

    public Optional<KeyRow> key(String id) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, tenant_id, name, created_at, revoked_at FROM api_keys WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(key(rs)) : Optional.empty();
                }
            }
        });
    }

    /** Keys, of one tenant or all. */
    public List<KeyRow> keys(String tenantId) {
        return call(c -> {
            List<KeyRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, tenant_id, name, created_at, revoked_at FROM api_keys"
                    + (tenantId == null ? "" : " WHERE tenant_id = ?") + " ORDER BY created_at, id")) {
                if (tenantId != null) {
                    ps.setString(1, tenantId);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(key(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Revokes a key from now on (a key revoked before keeps its time); 404 if there is none. */
    public KeyRow revokeKey(String id) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
                    + "WHERE id = ? RETURNING id, tenant_id, name, created_at, revoked_at")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ApiException.notFound("API key", id);
                    }
                    return key(rs);
                }
            }
        });
    }

    public PriceRow addPrice(PriceRow p) {
        return call(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_prices (model, currency, input_per_million, "
                    + "output_per_million, cached_input_per_million, effective_from) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (model, effective_from) DO NOTHING RETURNING id, model, currency, input_per_million, "
                    + "output_per_million, cached_input_per_million, effective_from")) {
                ps.setString(1, p.model());
                ps.setString(2, p.currency());
                ps.setBigDecimal(3, p.inputPerMillion());
                ps.setBigDecimal(4, p.outputPerMillion());
                ps.setBigDecimal(5, p.cachedInputPerMillion());
                ps.setTimestamp(6, Timestamp.from(p.effectiveFrom()));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ApiException(409, "conflict", "effective_from", "model " + p.model()
                                + " already has a price from " + p.effectiveFrom());
                    }
                    return price(rs);
                }
            }
        });
    }

    public List<PriceRow> prices(String model) {
        return call(c -> {
            List<PriceRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, model, currency, input_per_million, output_per_million, "
                    + "cached_input_per_million, effective_from FROM model_prices" + (model == null ? "" : " WHERE model = ?")
                    + " ORDER BY model, effective_from")) {
                if (model != null) {
                    ps.setString(1, model);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(price(rs));
                    }
                }
            }
            return out;
        });
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T call(Work<T> work) {
        try (Connection c = db.connect()) {
            return work.run(c);
        } catch (SQLException e) {
            if ("23503".equals(e.getSQLState())) {
                throw new ApiException(404, "not_found", null, "a row it refers to does not exist");
            }
            if ("23514".equals(e.getSQLState()) || "22003".equals(e.getSQLState()) || "22P02".equals(e.getSQLState())) {
                throw new ApiException(400, "invalid_request", null, "rejected by the database: " + e.getMessage());
            }
            throw new ApiException(503, "unavailable", null, "the database is not available: " + e.getMessage(), 5);
        }
    }

    private Optional<TenantRow> tenant(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(tenant(rs)) : Optional.empty();
            }
        }
    }

    private static TenantRow tenant(ResultSet rs) throws SQLException {
        return new TenantRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getBigDecimal(6), (Integer) rs.getObject(7), (Integer) rs.getObject(8), rs.getBigDecimal(9),
                instant(rs.getTimestamp(10)), instant(rs.getTimestamp(11)));
    }

    private static KeyRow key(ResultSet rs) throws SQLException {
        return new KeyRow(rs.getString(1), rs.getString(2), rs.getString(3), instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)));
    }

    private static PriceRow price(ResultSet rs) throws SQLException {
        return new PriceRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4), rs.getBigDecimal(5),
                rs.getBigDecimal(6), instant(rs.getTimestamp(7)));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setInt(i, v);
        }
    }
}
