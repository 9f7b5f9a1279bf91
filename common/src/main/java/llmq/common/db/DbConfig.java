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
 */
public record DbConfig(String url, String user, String password) {

    public static DbConfig from(Settings s) {
        String url = s.string("db.url", "jdbc:postgresql://localhost:5432/llmq");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new llmq.common.config.ConfigException("db.url", url, "must be a jdbc:postgresql: URL");
        }
        return new DbConfig(url, s.string("db.user", "llmq"), s.string("db.password", ""));
    }

    /** Opens a connection with batched-insert rewriting on. */
    public Connection connect() throws SQLException {
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
        return "DbConfig[url=" + url + ", user=" + user + "]";
    }
}
