package llmq.billing.cdc;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;

/**
 * Settings of the change data capture that streams {@code model_prices}, {@code tenants} and
 * {@code api_keys} into {@code llm.config.*}. Keys and defaults:
 *
 * <ul>
 *   <li>{@code billing.cdc.enabled} ({@code true}): run the Debezium engine in this instance. One
 *       engine per deployment suffices (its slot admits one reader); extra instances may turn it off.</li>
 *   <li>{@code billing.cdc.host}, {@code billing.cdc.port}, {@code billing.cdc.database} (from {@code db.url}).</li>
 *   <li>{@code billing.cdc.user} ({@code llmq_cdc}), {@code billing.cdc.password} (empty): the
 *       least-privilege replication role ({@code LOGIN REPLICATION}, {@code SELECT} on the captured tables).</li>
 *   <li>{@code billing.cdc.slot} ({@code llmq_billing}): logical replication slot (pgoutput).</li>
 *   <li>{@code billing.cdc.publication} ({@code llmq_config}): the publication, created by the tables' owner
 *       (migration V003); never created by the engine.</li>
 *   <li>{@code billing.cdc.name} ({@code llmq-billing-cdc}): engine name; its offsets are stored under it.</li>
 *   <li>{@code billing.cdc.offsets-topic} ({@code llmq.billing.cdc-offsets}): compacted topic of the
 *       engine's offsets, so a restart resumes where it stopped instead of taking a new snapshot.</li>
 *   <li>{@code billing.cdc.heartbeat-interval} ({@code 10s}): how often the heartbeat row is touched,
 *       proving the stream live and letting the slot advance while the config tables are idle.</li>
 *   <li>{@code billing.cdc.start-timeout} ({@code 30s}): how long start-up waits for the stream to be
 *       live (snapshot published) before going on with CDC reported DOWN.</li>
 *   <li>{@code billing.cdc.debezium.*}: raw Debezium connector/engine properties, applied last.</li>
 * </ul>
 */
public record CdcConfig(boolean enabled, String host, int port, String database, String user, String password,
                        String slot, String publication, String name, String offsetsTopic, Duration heartbeatInterval,
                        Duration startTimeout, Map<String, String> debeziumOverrides) {

    public CdcConfig {
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw new ConfigException("billing.cdc.slot", slot, "must be lower-case letters, digits and _ (PostgreSQL slot name)");
        }
        if (heartbeatInterval.toMillis() < 100) {
            throw new ConfigException("billing.cdc.heartbeat-interval", heartbeatInterval.toString(), "must be at least 100ms");
        }
        debeziumOverrides = Map.copyOf(debeziumOverrides);
    }

    public static CdcConfig from(Settings s, DbConfig db) {
        URI url = jdbcUri(db.url());
        return new CdcConfig(
                s.bool("billing.cdc.enabled", true),
                s.string("billing.cdc.host", url.getHost() == null ? "localhost" : url.getHost()),
                s.integer("billing.cdc.port", url.getPort() < 0 ? 5432 : url.getPort()),
                s.string("billing.cdc.database", url.getPath() == null || url.getPath().length() < 2 ? "llmq"
                        : url.getPath().substring(1)),
                s.string("billing.cdc.user", "llmq_cdc"),
                s.string("billing.cdc.password", ""),
                s.string("billing.cdc.slot", "llmq_billing"),
                s.string("billing.cdc.publication", "llmq_config"),
                s.string("billing.cdc.name", "llmq-billing-cdc"),
                s.string("billing.cdc.offsets-topic", "llmq.billing.cdc-offsets"),
                s.duration("billing.cdc.heartbeat-interval", Duration.ofSeconds(10)),
                s.duration("billing.cdc.start-timeout", Duration.ofSeconds(30)),
                s.withPrefix("billing.cdc.debezium"));
    }

    /** {@code jdbc:postgresql://host:port/db?x} as a URI (the JDBC prefix removed, parameters dropped). */
    static URI jdbcUri(String jdbcUrl) {
        String rest = jdbcUrl.substring("jdbc:".length());
        int q = rest.indexOf('?');
        try {
            return URI.create(q < 0 ? rest : rest.substring(0, q));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("db.url", jdbcUrl, "cannot be parsed for billing.cdc.host/port/database: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "CdcConfig[" + user + "@" + host + ":" + port + "/" + database + ", slot=" + slot + ", publication="
                + publication + ", offsets=" + offsetsTopic + "]";
    }
}
