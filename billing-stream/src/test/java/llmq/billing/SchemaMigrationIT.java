package llmq.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import llmq.avro.UsageEvent;
import llmq.billing.UsageRows.Row;
import llmq.cli.LlmqCli;
import llmq.common.db.DbConfig;
import llmq.common.db.Migrations;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.topics.catalog.TopicCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A deployment's own PostgreSQL starts empty: the services create llmq's schema on their first
 * connection ({@code db.migrate}, on by default), concurrent instances included; with it off they
 * leave the database alone and {@code llmq db migrate} does it; and a schema whose applied
 * migration was changed stops billing-stream's start with a message that says so. Each test works
 * on a database of its own, created empty on the shared server.
 */
@IntegrationTest
class SchemaMigrationIT {

    private final Infra infra;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;
    private final List<String> databases = new ArrayList<>();
    private final List<AutoCloseable> running = new ArrayList<>();

    SchemaMigrationIT(Infra infra) {
        this.infra = infra;
        this.catalog = infra.catalog();
        this.kafka = new KafkaIo(infra);
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (AutoCloseable c : running) {
            c.close();
        }
        kafka.close();
        try (Connection c = infra.postgres().superuser(); Statement st = c.createStatement()) {
            for (String d : databases) {
                st.execute("DROP DATABASE IF EXISTS " + d);
            }
        }
    }

    @Test
    void shouldCreateTheSchemaOnTheFirstConnectionsToAnEmptyDatabaseOnce() throws Exception {
        String url = emptyDatabase();
        assertThat(versions(url)).as("before any connection").isNull();

        // two connections racing, as two instances starting together would
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Callable<Boolean> connect = () -> {
                try (Connection c = new DbConfig(url, "llmq", "").connect()) {
                    return c.isValid(1);
                }
            };
            List<Future<Boolean>> both = pool.invokeAll(List.of(connect, connect));
            for (Future<Boolean> f : both) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(versions(url)).as("applied migrations").isEqualTo(allVersions());
        try (Connection c = withoutMigrating(url).open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_publication WHERE pubname = 'llmq_config'), "
                     + "to_regclass('usage_records') IS NOT NULL, to_regclass('usage_daily') IS NOT NULL")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the publication change data capture reads").isEqualTo(1);
            assertThat(rs.getBoolean(2)).as("usage_records").isTrue();
            assertThat(rs.getBoolean(3)).as("usage_daily").isTrue();
        }
    }

    @Test
    void shouldLeaveTheDatabaseAloneWhenMigrateIsOffAndLetTheCliMigrateIt() throws Exception {
        String url = emptyDatabase();
        try (Connection c = withoutMigrating(url).connect()) {
            assertThat(c.isValid(1)).isTrue();
        }
        assertThat(versions(url)).as("with db.migrate=false").isNull();

        String first = cli("--set", "db.url=" + url, "--set", "db.user=llmq", "db", "migrate");
        assertThat(first).contains("applied V001 initial_schema")
                .contains("is at V%03d (%d applied now)".formatted(last(allVersions()), allVersions().size()));
        assertThat(versions(url)).isEqualTo(allVersions());

        String again = cli("--set", "db.url=" + url, "--set", "db.user=llmq", "db", "migrate");
        assertThat(again).doesNotContain("applied V").contains("(nothing to apply)");
    }

    @Test
    void shouldStartBillingOnAnEmptyDatabaseAndSinkUsageIntoIt() throws Exception {
        String url = emptyDatabase();
        String id = "it-billing-schema-" + UUID.randomUUID();
        kafka.startGroupAtEnd(id, List.of(catalog.usage().name()));
        kafka.startGroupAtEnd(id + "-sink", List.of(catalog.billing().name()));

        running.add(BillingService.start(infra.settings(Map.of(
                "db.url", url,
                "billing.application-id", id,
                "billing.state-dir", infra.newDirectory("billing-schema").toString(),
                "billing.sink.group-id", id + "-sink",
                "billing.admin.port", "0",
                "billing.cdc.enabled", "false"))));
        assertThat(versions(url)).as("migrated as billing-stream started").isEqualTo(allVersions());

        UsageEvent u = UsageEvent.newBuilder()
                .setRequestId(UUID.randomUUID().toString())
                .setTenantId("schema-" + id).setModel("unpriced-model").setEndpoint("sim")
                .setPromptTokens(10).setCompletionTokens(20).setCachedPromptTokens(0)
                .setLatencyMs(5).setAttempt(1)
                .setAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .build();
        kafka.send(catalog.usage(), u.getTenantId(), u);
        Map<String, Row> rows = KafkaIo.until(() -> UsageRows.of(withoutMigrating(url), List.of(u.getRequestId())),
                r -> r.size() == 1);
        assertThat(rows).containsOnlyKeys(u.getRequestId());
        assertThat(rows.get(u.getRequestId()).completionTokens()).isEqualTo(20);
    }

    @Test
    void shouldRefuseToStartBillingWhenAnAppliedMigrationWasChanged() throws Exception {
        String url = emptyDatabase();
        try (Connection c = withoutMigrating(url).open(); Statement st = c.createStatement()) {
            Migrations.migrate(c);
            st.executeUpdate("UPDATE llmq_schema_history SET checksum = 'edited' WHERE version = 1");
        }

        assertThatThrownBy(() -> running.add(BillingService.start(infra.settings(Map.of(
                "db.url", url,
                "billing.application-id", "it-billing-schema-" + UUID.randomUUID(),
                "billing.state-dir", infra.newDirectory("billing-schema").toString(),
                "billing.admin.port", "0",
                "billing.cdc.enabled", "false")))))
                .hasMessageContaining("migration V1 (initial_schema) changed after it was applied");
    }

    /** A new, empty database on the shared server, owned by llmq's user; its JDBC URL. */
    private String emptyDatabase() throws SQLException {
        String name = "it_schema_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = infra.postgres().superuser(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name + " OWNER llmq");
        }
        databases.add(name);
        String url = infra.postgres().jdbcUrl();
        return url.substring(0, url.lastIndexOf('/') + 1) + name;
    }

    private static DbConfig withoutMigrating(String url) {
        return new DbConfig(url, "llmq", "", false);
    }

    /** The versions recorded in {@code llmq_schema_history}, or null without that table. */
    private static List<Integer> versions(String url) throws SQLException {
        try (Connection c = withoutMigrating(url).open(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT to_regclass('llmq_schema_history') IS NOT NULL")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return null;
                }
            }
            List<Integer> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT version FROM llmq_schema_history ORDER BY version")) {
                while (rs.next()) {
                    out.add(rs.getInt(1));
                }
            }
            return out;
        }
    }

    private static List<Integer> allVersions() {
        return Migrations.load().stream().map(Migrations.Script::version).toList();
    }

    private static int last(List<Integer> versions) {
        return versions.get(versions.size() - 1);
    }

    private static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = LlmqCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(rc).as("llmq %s: %s", String.join(" ", args), err).isZero();
        return out.toString();
    }
}
