package llmq.standalone;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import llmq.common.auth.ApiKeys;
import llmq.common.db.DbConfig;

/**
 * The development tenant, its API key and prices for the simulator's models, created on the
 * first start of a data directory. The key is kept (owner-readable only) in the data
 * directory so later starts print the same key; PostgreSQL holds only its hash.
 */
public final class DevSeed {

    /** The development tenant's id. */
    public static final String TENANT = "dev";

    private DevSeed() {
    }

    /** Ensures the tenant, key and prices exist; returns the key. */
    public static String ensure(DbConfig db, Path keyFile) throws SQLException, IOException {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement t = c.prepareStatement("INSERT INTO tenants (id, name, tier, default_priority, "
                    + "max_priority) VALUES (?, 'Development', 'dev', 'normal', 'realtime') ON CONFLICT (id) DO NOTHING")) {
                t.setString(1, TENANT);
                t.executeUpdate();
            }
            price(c, "sim-small", "0.150000", "0.600000");
            price(c, "sim-large", "2.500000", "10.000000");
            String key = Files.exists(keyFile) ? Files.readString(keyFile).trim() : null;
            if (key == null || key.isEmpty()) {
                ApiKeys.Generated g = ApiKeys.generate();
                try (PreparedStatement k = c.prepareStatement(
                        "INSERT INTO api_keys (id, tenant_id, key_hash, name) VALUES (?, ?, ?, 'development key')")) {
                    k.setString(1, g.id());
                    k.setString(2, TENANT);
                    k.setString(3, ApiKeys.hash(g.key()));
                    k.executeUpdate();
                }
                Files.writeString(keyFile, g.key() + "\n");
                try {
                    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException ignored) {
                    // not a POSIX file system
                }
                key = g.key();
            }
            c.commit();
            return key;
        }
    }

    /**
     * A development secret kept (owner-readable only) in {@code file}: created on the first start
     * of a data directory, the same on every start after.
     */
    public static String secret(Path file) throws IOException {
        if (Files.exists(file)) {
            String s = Files.readString(file).trim();
            if (!s.isEmpty()) {
                return s;
            }
        }
        String s = ApiKeys.generate().key().replace("llmq_", "llmqadmin_");
        Files.writeString(file, s + "\n");
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        return s;
    }

    private static void price(Connection c, String model, String in, String out) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO model_prices (model, input_per_million, "
                + "output_per_million) SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM model_prices WHERE model = ?)")) {
            p.setString(1, model);
            p.setBigDecimal(2, new BigDecimal(in));
            p.setBigDecimal(3, new BigDecimal(out));
            p.setString(4, model);
            p.executeUpdate();
        }
    }
}
