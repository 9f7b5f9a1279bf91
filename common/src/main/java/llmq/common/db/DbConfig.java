package llmq.common.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import llmq.common.config.Settings;

/**
 * How a service reaches PostgreSQL.
 *
 * @param url      JDBC URL ({@code db.url}, default {@code jdbc:postgresql://localhost:5432/llmq})
 * @param user     {@code db.user}, default {@code llmq}
 * @param password {@code db.password}, default empty
 * @param migrate  {@code db.migrate}, default {@code true}: the first connection of this process
 *                 that reaches the database applies llmq's pending migrations (see
 *                 {@link Migrations}), so a service started on an empty database creates its
 *                 tables. Turn it off where {@code db.user} may not change the schema, and run
 *                 {@code llmq db migrate} as the tables' owner instead.
 */
public record DbConfig(String url, String user, String password, boolean migrate) {

    /** A configuration that migrates on first connection. */
    public DbConfig(String url, String user, String password) {
        this(url, user, password, true);
    }

    public static DbConfig from(Settings s) {
        String url = s.string("db.url", "jdbc:postgresql://localhost:5432/llmq");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new llmq.common.config.ConfigException("db.url", url, "must be a jdbc:postgresql: URL");
        }
        return new DbConfig(url, s.string("db.user", "llmq"), s.string("db.password", ""), s.bool("db.migrate", true));
    }

    /**
     * Opens a connection with batched-insert rewriting on. With {@link #migrate()}, the first
     * connection of this process to the database applies pending migrations before it is
     * returned; if they fail, so does this call (and the next one tries again).
     */
    public Connection connect() throws SQLException {
        Connection c = open();
        if (migrate) {
            try {
                Migrations.ensure(this, c);
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    /** Opens a connection without migrating. */
    public Connection open() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (!password.isEmpty()) {
            p.setProperty("password", password);
        }
        p.setProperty("reWriteBatchedInserts", "true");
        p.setProperty("connectTimeout", "5");
        p.setProperty("ApplicationName", "llmq");
        return DriverManager.getConnection(url, p);
    }

    @Override
    public String toString() {
        return "DbConfig[url=" + url + ", user=" + user + ", migrate=" + migrate + "]";
    }
}
