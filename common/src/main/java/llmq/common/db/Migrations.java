package llmq.common.db;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies llmq's versioned SQL migrations, in order, exactly once per database.
 *
 * <p>The scripts are classpath resources {@code db/migration/V<nnn>__<name>.sql}, listed in
 * order in {@code db/migration/MIGRATIONS}. Each runs in its own transaction and is recorded
 * in {@code llmq_schema_history} with its checksum; a script that changed after it was applied
 * stops start-up (edit by adding a new migration, never by rewriting an old one). A session
 * advisory lock serialises concurrent instances starting together.
 *
 * <p>Services run them through {@link DbConfig#connect()}: the first connection of a process to
 * a database migrates it ({@code db.migrate}, on by default), and {@link #atStart} tries that
 * once as a service starts so that a schema problem stops the start with a clear error, while a
 * database that is down only delays the migrations until it is back.
 */
public final class Migrations {

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
    private static final String ROOT = "db/migration/";
    private static final long LOCK_ID = 0x6c6c6d71L; // "llmq"
    /** Databases (JDBC URLs) this process has migrated. */
    private static final Set<String> MIGRATED = ConcurrentHashMap.newKeySet();

    private Migrations() {
    }

    /** One migration script. */
    public record Script(int version, String name, String sql, String checksum) {
    }

    /**
     * Migrates {@code db} over {@code c} unless this process already has; what
     * {@link DbConfig#connect()} calls.
     */
    static void ensure(DbConfig db, Connection c) throws SQLException {
        if (MIGRATED.contains(db.url())) {
            return;
        }
        List<Integer> applied = migrate(c);
        MIGRATED.add(db.url());
        if (!applied.isEmpty()) {
            LOG.info("PostgreSQL {} migrated to V{}", db.url(), applied.get(applied.size() - 1));
        }
    }

    /**
     * Connects to {@code db} once as {@code service} starts, which migrates it when
     * {@code db.migrate} is on. A database that cannot be reached is logged and left to the first
     * connection that reaches it; any other failure (a migration that fails or was changed after
     * it was applied, a user without the rights) is thrown.
     */
    public static void atStart(DbConfig db, String service) throws SQLException {
        try {
            db.connect().close();
        } catch (SQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                LOG.warn("{}: PostgreSQL at {} not reachable at start ({}); {}", service, db.url(), e.getMessage(),
                        db.migrate() ? "its migrations run on the first connection that reaches it" : "continuing");
                return;
            }
            throw new SQLException(service + ": PostgreSQL at " + db.url() + " as " + db.user()
                    + (db.migrate() ? " could not be migrated: " : " refused the connection: ") + e.getMessage(),
                    e.getSQLState(), e);
        }
    }

    /** Applies every pending migration; returns the versions applied now. */
    public static List<Integer> migrate(Connection c) throws SQLException {
        List<Script> scripts = load();
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_lock(" + LOCK_ID + ")");
            try {
                st.execute("CREATE TABLE IF NOT EXISTS llmq_schema_history ("
                        + "version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                        + "applied_at timestamptz NOT NULL DEFAULT now())");
                Map<Integer, String> applied = new LinkedHashMap<>();
                try (ResultSet rs = st.executeQuery("SELECT version, checksum FROM llmq_schema_history")) {
                    while (rs.next()) {
                        applied.put(rs.getInt(1), rs.getString(2));
                    }
                }
                List<Integer> done = new ArrayList<>();
                for (Script s : scripts) {
                    String previous = applied.get(s.version());
                    if (previous != null) {
                        if (!previous.equals(s.checksum())) {
                            throw new IllegalStateException("migration V" + s.version() + " (" + s.name()
                                    + ") changed after it was applied; add a new migration instead");
                        }
                        continue;
                    }
                    apply(c, s);
                    done.add(s.version());
                }
                return done;
            } finally {
                st.execute("SELECT pg_advisory_unlock(" + LOCK_ID + ")");
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static void apply(Connection c, Script s) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement();
             PreparedStatement record = c.prepareStatement(
                     "INSERT INTO llmq_schema_history (version, name, checksum) VALUES (?, ?, ?)")) {
            st.execute(s.sql());
            record.setInt(1, s.version());
            record.setString(2, s.name());
            record.setString(3, s.checksum());
            record.executeUpdate();
            c.commit();
            LOG.info("applied migration V{} {}", s.version(), s.name());
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The scripts in order, as listed in {@code db/migration/MIGRATIONS}. */
    public static List<Script> load() {
        List<Script> out = new ArrayList<>();
        for (String file : readLines(ROOT + "MIGRATIONS")) {
            if (!file.matches("V\\d+__[A-Za-z0-9_]+\\.sql")) {
                throw new IllegalStateException("bad migration file name: " + file);
            }
            int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
            String name = file.substring(file.indexOf("__") + 2, file.length() - 4);
            String sql = String.join("\n", readLines(ROOT + file));
            if (!out.isEmpty() && out.get(out.size() - 1).version() >= version) {
                throw new IllegalStateException("migrations out of order at " + file);
            }
            out.add(new Script(version, name, sql, sha256(sql)));
        }
        return out;
    }

    private static List<String> readLines(String resource) {
        InputStream in = Migrations.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("missing classpath resource " + resource);
        }
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            boolean index = resource.endsWith("MIGRATIONS");
            while ((line = r.readLine()) != null) {
                if (index) {
                    line = line.trim();
                    if (line.isEmpty() || line.startsWith("#")) {
                        continue;
                    }
                }
                lines.add(line);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
        return lines;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
