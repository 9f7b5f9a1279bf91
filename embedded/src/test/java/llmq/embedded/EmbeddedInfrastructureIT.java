package llmq.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import llmq.common.db.Migrations;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.embedded.postgres.LocalPostgres;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real broker and PostgreSQL the standalone run and the tests stand on. */
class EmbeddedInfrastructureIT {

    @TempDir
    Path dir;

    @Test
    void shouldRefuseAPortThatIsAlreadyTaken() throws Exception {
        try (ServerSocket stranger = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> EmbeddedKafka.start(dir.resolve("k"), stranger.getLocalPort(), 0, Map.of()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + stranger.getLocalPort() + " is already in use");
        }
    }

    @Test
    void shouldKeepTopicsAndClusterIdAcrossARestartOnTheSameDirectory() throws Exception {
        String clusterId;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0, Map.of());
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            clusterId = kafka.clusterId();
            admin.createTopics(List.of(new NewTopic("kept", 2, (short) 1))).all().get();
        }
        try (EmbeddedKafka again = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0, Map.of());
             Admin admin = Admin.create(Map.of("bootstrap.servers", again.bootstrapServers()))) {
            assertThat(again.clusterId()).isEqualTo(clusterId);
            assertThat(admin.describeCluster().clusterId().get()).isEqualTo(clusterId);
            assertThat(admin.listTopics().names().get()).contains("kept");
        }
    }

    @Test
    void shouldStartPostgresForLogicalDecodingWithTheSchemaMigratedOnce() throws Exception {
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0)) {
            try (Connection c = pg.superuser(); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SHOW wal_level")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("logical");
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM llmq_schema_history")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(Migrations.load().size());
                }
                st.execute("INSERT INTO tenants (id, name) VALUES ('kept', 'Kept')");
            }
            try (Connection c = pg.db().connect()) {
                assertThat(Migrations.migrate(c)).isEmpty();
            }
        }
        try (LocalPostgres again = LocalPostgres.start(dir.resolve("pg"), 0);
             Connection c = again.db().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM tenants WHERE id = 'kept'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("Kept");
        }
    }

    @Test
    void shouldComeBackOnTheSamePortWithItsDataAfterAStop() throws Exception {
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg-outage"), 0)) {
            try (Connection c = pg.db().connect(); Statement st = c.createStatement()) {
                st.execute("INSERT INTO tenants (id, name) VALUES ('survivor', 'Survivor')");
            }

            pg.stop();

            assertThat(pg.running()).isFalse();
            assertThatThrownBy(() -> pg.db().connect().close()).isInstanceOf(java.sql.SQLException.class);

            pg.start();

            assertThat(pg.running()).isTrue();
            try (Connection c = pg.db().connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT name FROM tenants WHERE id = 'survivor'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("Survivor");
            }
        }
    }

    @Test
    void shouldCreateALeastPrivilegeReplicationRoleAndThePublicationOfTheConfigTables() throws Exception {
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg-cdc"), 0);
             Connection c = pg.superuser(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT rolcanlogin, rolreplication, rolsuper, rolcreaterole, rolcreatedb "
                    + "FROM pg_roles WHERE rolname = '" + LocalPostgres.CDC_ROLE + "'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("login").isTrue();
                assertThat(rs.getBoolean(2)).as("replication").isTrue();
                assertThat(rs.getBoolean(3)).as("superuser").isFalse();
                assertThat(rs.getBoolean(4)).as("createrole").isFalse();
                assertThat(rs.getBoolean(5)).as("createdb").isFalse();
            }
            try (ResultSet rs = st.executeQuery("SELECT has_table_privilege('" + LocalPostgres.CDC_ROLE
                    + "', 'model_prices', 'SELECT'), has_table_privilege('" + LocalPostgres.CDC_ROLE
                    + "', 'model_prices', 'UPDATE'), has_table_privilege('" + LocalPostgres.CDC_ROLE
                    + "', 'usage_records', 'SELECT')")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("reads the captured tables").isTrue();
                assertThat(rs.getBoolean(2)).as("writes nothing").isFalse();
                assertThat(rs.getBoolean(3)).as("reads nothing else").isFalse();
            }
            List<String> published = new java.util.ArrayList<>();
            try (ResultSet rs = st.executeQuery(
                    "SELECT tablename FROM pg_publication_tables WHERE pubname = 'llmq_config' ORDER BY tablename")) {
                while (rs.next()) {
                    published.add(rs.getString(1));
                }
            }
            assertThat(published).containsExactlyInAnyOrderElementsOf(LocalPostgres.CDC_TABLES);
            // a second start on the same data is a no-op for the role
            pg.ensureReplicationRole(LocalPostgres.CDC_ROLE, null);
        }
    }
}
