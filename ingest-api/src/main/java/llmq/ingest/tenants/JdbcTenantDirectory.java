package llmq.ingest.tenants;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import llmq.avro.Priority;
import llmq.common.db.DbConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tenants and key hashes loaded from PostgreSQL into memory and reloaded periodically, so a
 * request never waits on the database and a revoked key stops working within one refresh
 * interval. If PostgreSQL is unreachable the last loaded view keeps serving.
 */
public final class JdbcTenantDirectory implements TenantDirectory, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcTenantDirectory.class);

    private record View(Map<String, Tenant> tenants, Map<String, String> tenantByKeyHash) {
    }

    private final DbConfig db;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "llmq-tenant-directory");
        t.setDaemon(true);
        return t;
    });
    private volatile View view;
    private volatile boolean failing;

    public JdbcTenantDirectory(DbConfig db) {
        this.db = db;
    }

    /** Loads now (best effort) and then every {@code interval}. */
    public JdbcTenantDirectory start(Duration interval) {
        reloadSafely();
        timer.scheduleWithFixedDelay(this::reloadSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void reloadSafely() {
        try {
            reload();
            if (failing) {
                LOG.info("tenant directory reloaded from PostgreSQL again");
            }
            failing = false;
        } catch (SQLException | RuntimeException e) {
            if (!failing) {
                LOG.warn("cannot reload tenants from PostgreSQL (serving the last loaded view): {}", e.toString());
            }
            failing = true;
        }
    }

    /** Reads tenants and active keys. */
    public void reload() throws SQLException {
        Map<String, Tenant> tenants = new HashMap<>();
        Map<String, String> keys = new HashMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery(
                    "SELECT id, name, tier, default_priority, max_priority, weight FROM tenants")) {
                while (rs.next()) {
                    tenants.put(rs.getString(1), new Tenant(rs.getString(1), rs.getString(2), rs.getString(3),
                            level(rs.getString(4)), level(rs.getString(5)), rs.getDouble(6)));
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT key_hash, tenant_id FROM api_keys WHERE revoked_at IS NULL")) {
                while (rs.next()) {
                    keys.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        view = new View(Map.copyOf(tenants), Map.copyOf(keys));
    }

    private static Priority level(String s) {
        return Priority.valueOf(s.toUpperCase(Locale.ROOT));
    }

    @Override
    public Optional<Tenant> byKeyHash(String keyHash) {
        View v = view;
        if (v == null) {
            return Optional.empty();
        }
        String tenant = v.tenantByKeyHash().get(keyHash);
        return tenant == null ? Optional.empty() : Optional.ofNullable(v.tenants().get(tenant));
    }

    @Override
    public Optional<Tenant> tenant(String id) {
        View v = view;
        return v == null ? Optional.empty() : Optional.ofNullable(v.tenants().get(id));
    }

    @Override
    public boolean ready() {
        return view != null;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
