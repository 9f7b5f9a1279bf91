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
 * <p>Configured for logical decoding ({@code wal_level=logical}, {@code synchronous_commit=on})
 * so that Debezium can stream tables out of it. On start it creates the {@code llmq} role and
 * database if missing and applies the versioned migrations. The data directory is kept, so a
 * restart finds earlier rows; a postmaster orphaned by a {@code kill -9} of a previous run on
 * the same directory is stopped first.
 */
public final class LocalPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalPostgres.class);
    /** Role and database llmq's services use. */
    public static final String DATABASE = "llmq";

    private final EmbeddedPostgres pg;

    private LocalPostgres(EmbeddedPostgres pg) {
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
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(p)
                .setPGStartupWait(Duration.ofSeconds(30))
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_wal_senders", "8")
                .setServerConfig("max_replication_slots", "8")
                .setServerConfig("max_connections", "100")
                .setServerConfig("shared_buffers", "64MB")
                .start();
        LocalPostgres local = new LocalPostgres(pg);
        try {
            local.createDatabase();
            try (Connection c = local.db().connect()) {
                List<Integer> applied = Migrations.migrate(c);
                if (!applied.isEmpty()) {
                    LOG.info("PostgreSQL schema migrated to V{}", applied.get(applied.size() - 1));
                }
            }
        } catch (SQLException | RuntimeException e) {
            local.close();
            throw e;
        }
        LOG.info("PostgreSQL up on port {} (data {})", p, dataDir);
        return local;
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
        return "jdbc:postgresql://localhost:" + pg.getPort() + "/" + DATABASE;
    }

    /** Superuser connection to llmq's database (tests, Debezium set-up). */
    public Connection superuser() throws SQLException {
        return pg.getDatabase("postgres", DATABASE).getConnection();
    }

    public int port() {
        return pg.getPort();
    }

    @Override
    public void close() {
        try {
            pg.close();
        } catch (IOException e) {
            LOG.warn("PostgreSQL did not stop cleanly", e);
        }
    }
}
