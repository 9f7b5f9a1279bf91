package llmq.embedded.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import llmq.common.db.DbConfig;
import llmq.common.db.Migrations;
import llmq.embedded.kafka.EmbeddedKafka;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server from embedded binaries (zonky), with llmq's database and schema.
 *
 * <p>Configured for logical decoding ({@code wal_level=logical}, {@code synchronous_commit=on},
 * enough WAL senders and replication slots) so that Debezium can stream tables out of it. On
 * start it creates the {@code llmq} role and database if missing, applies the versioned
 * migrations, and creates the least-privilege replication role {@value #CDC_ROLE}
 * ({@code LOGIN REPLICATION}, {@code SELECT} on the captured tables) that billing-stream's change
 * data capture logs in as. The data directory is kept, so a restart finds earlier rows; a
 * postmaster orphaned by a {@code kill -9} of a previous run on the same directory is stopped
 * first. {@link #stop()} and {@link #start()} take the server down and up again on the same port
 * and data (outage tests).
 */
public final class LocalPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalPostgres.class);
    /** Role and database llmq's services use. */
    public static final String DATABASE = "llmq";
    /** The replication role billing-stream's Debezium engine logs in as (no password: local trust auth). */
    public static final String CDC_ROLE = "llmq_cdc";
    /** The tables change data capture reads (the publication created by migration V003). */
    public static final List<String> CDC_TABLES = List.of("model_prices", "tenants", "api_keys", "cdc_heartbeat");

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;

    private LocalPostgres(Path dataDir, int port, EmbeddedPostgres pg) {
        this.dataDir = dataDir;
        this.port = port;
        this.pg = pg;
    }

    /**
     * Starts PostgreSQL on {@code dataDir} (created if missing) and migrates the schema.
     *
     * @param port 0 picks a free port
     */
    public static LocalPostgres start(Path dataDir, int port) throws IOException, SQLException {
        Files.createDirectories(dataDir);
        int p = port == 0 ? EmbeddedKafka.freePort() : EmbeddedKafka.requireFree(port, "PostgreSQL");
        stopOrphanedPostmaster(dataDir);
        LocalPostgres local = new LocalPostgres(dataDir, p, server(dataDir, p));
        try {
            local.createDatabase();
            // always, not once per process as DbConfig.connect does: a fresh data directory may
            // come back on a port (so a URL) this process has migrated before
            try (Connection c = local.db().open()) {
                List<Integer> applied = Migrations.migrate(c);
                if (!applied.isEmpty()) {
                    LOG.info("PostgreSQL schema migrated to V{}", applied.get(applied.size() - 1));
                }
            }
            local.ensureReplicationRole(CDC_ROLE, null);
        } catch (SQLException | RuntimeException e) {
            local.close();
            throw e;
        }
        LOG.info("PostgreSQL up on port {} (data {})", p, dataDir);
        return local;
    }

    private static EmbeddedPostgres server(Path dataDir, int port) throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(30))
                // logical decoding for Debezium; with zonky's default synchronous_commit=off a
                // committed change was not yet visible to the decoder right after the commit
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                // one slot and one sender per CDC engine; tests run several engines in a row
                .setServerConfig("max_wal_senders", "20")
                .setServerConfig("max_replication_slots", "20")
                .setServerConfig("max_connections", "100")
                .setServerConfig("shared_buffers", "64MB")
                .start();
    }

    /**
     * Stops the server, keeping its data and port, as an outage would; {@link #start()} brings it
     * back. Connections break; clients see connection errors until it is up again.
     */
    public synchronized void stop() throws IOException {
        if (pg == null) {
            return;
        }
        LOG.info("stopping PostgreSQL on port {}", port);
        Optional<ProcessHandle> postmaster = postmaster(dataDir);
        pg.close();
        pg = null;
        // pg_ctl gives up after a few seconds while a replication client holds on; the server still
        // goes, but only a server that is gone may be started again on the same port and data
        postmaster.ifPresent(h -> {
            try {
                h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("PostgreSQL (pid {}) still running 30 s after stop; killing it", h.pid());
                h.destroyForcibly();
            }
        });
    }

    private static Optional<ProcessHandle> postmaster(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Starts a server stopped by {@link #stop()} again, on the same port and data directory. */
    public synchronized void start() throws IOException {
        if (pg != null) {
            return;
        }
        EmbeddedKafka.requireFree(port, "PostgreSQL");
        pg = server(dataDir, port);
        LOG.info("PostgreSQL up again on port {}", port);
    }

    /** False between {@link #stop()} and {@link #start()}. */
    public synchronized boolean running() {
        return pg != null;
    }

    /**
     * Creates (if missing) a least-privilege replication role for change data capture: it may
     * log in and open a replication connection, and read the captured tables; nothing else. The
     * publication it reads is created by the tables' owner (migration V003). Idempotent; a
     * non-null {@code password} is (re)set.
     */
    public void ensureReplicationRole(String role, String password) throws SQLException {
        if (!role.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("not a plain role name: " + role);
        }
        try (Connection c = superuser(); Statement st = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + role + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                st.execute("CREATE ROLE " + role + " LOGIN REPLICATION");
                LOG.info("created replication role {}", role);
            }
            if (password != null) {
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT quote_literal(?)")) {
                    ps.setString(1, password);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        st.execute("ALTER ROLE " + role + " PASSWORD " + rs.getString(1));
                    }
                }
            }
            st.execute("GRANT SELECT ON " + String.join(", ", CDC_TABLES) + " TO " + role);
        }
    }

    private void createDatabase() throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            boolean role;
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + DATABASE + "'")) {
                role = rs.next();
            }
            if (!role) {
                st.execute("CREATE ROLE " + DATABASE + " LOGIN");
            }
            boolean db;
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                db = rs.next();
            }
            if (!db) {
                st.execute("CREATE DATABASE " + DATABASE + " OWNER " + DATABASE);
            }
        }
    }

    /**
     * A previous run killed with {@code kill -9} leaves its postmaster running on the data
     * directory. If no live process holds zonky's lock on the directory, that postmaster is an
     * orphan: stop it so this run can start.
     */
    private static void stopOrphanedPostmaster(Path dataDir) throws IOException {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dataDir.resolve("epg-lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("PostgreSQL data directory " + dataDir + " is in use by another process");
            }
            lock.release();
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> orphan = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.contains("postgres")).orElse(true));
        if (orphan.isEmpty()) {
            return;
        }
        LOG.warn("stopping PostgreSQL (pid {}) left running by an earlier run on {}", pid, dataDir);
        ProcessHandle h = orphan.get();
        h.destroy(); // SIGTERM: "smart" shutdown
        try {
            h.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            h.destroyForcibly();
        }
    }

    /** Connection settings for llmq's services. */
    public DbConfig db() {
        return new DbConfig(jdbcUrl(), DATABASE, "");
    }

    /** JDBC URL of llmq's database. */
    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port + "/" + DATABASE;
    }

    /** Superuser connection to llmq's database (tests, Debezium set-up). */
    public Connection superuser() throws SQLException {
        EmbeddedPostgres server;
        synchronized (this) {
            server = pg;
        }
        if (server == null) {
            throw new SQLException("PostgreSQL on port " + port + " is stopped", "08001");
        }
        return server.getDatabase("postgres", DATABASE).getConnection();
    }

    public int port() {
        return port;
    }

    @Override
    public synchronized void close() {
        if (pg == null) {
            return;
        }
        try {
            pg.close();
        } catch (IOException e) {
            LOG.warn("PostgreSQL did not stop cleanly", e);
        }
        pg = null;
    }
}
