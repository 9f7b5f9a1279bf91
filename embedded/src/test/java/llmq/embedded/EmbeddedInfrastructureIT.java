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
}
