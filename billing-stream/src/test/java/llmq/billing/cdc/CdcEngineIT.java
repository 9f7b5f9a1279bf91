package llmq.billing.cdc;

import llmq.testsupport.ReplicationSlots;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.ApiKey;
import llmq.avro.ModelPrice;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.testsupport.KafkaIo.Received;
import llmq.topics.catalog.TopicCatalog;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Debezium engine against the real PostgreSQL and broker: row changes of the config tables
 * reach their compacted topics keyed by row id with exact values, a delete as a tombstone; the
 * engine logs in as the least-privilege replication role; and a restarted engine resumes from its
 * Kafka-stored offsets instead of taking a new snapshot.
 */
@IntegrationTest
class CdcEngineIT {

    private final Infra infra;
    private final TopicCatalog catalog;
    private final DbConfig db;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String slot = "it_cdc_" + run;
    private final List<CdcEngine> engines = new ArrayList<>();

    CdcEngineIT(Infra infra) {
        this.infra = infra;
        this.catalog = infra.catalog();
        this.db = infra.postgres().db();
    }

    @AfterEach
    void stop() {
        engines.forEach(CdcEngine::close);
        ReplicationSlots.drop(infra, slot);
    }

    private CdcEngine start(SimpleMeterRegistry metrics) throws InterruptedException {
        Settings s = infra.settings(Map.of("billing.cdc.slot", slot, "billing.cdc.name", "it-cdc-" + run,
                "billing.cdc.heartbeat-interval", "1s"));
        CdcEngine e = CdcEngine.start(CdcConfig.from(s, db), infra.kafkaConfig(), catalog, infra.serdes(), db, metrics);
        engines.add(e);
        assertThat(e.awaitLive(Duration.ofSeconds(60))).as("stream live").isTrue();
        return e;
    }

    @Test
    void shouldStreamRowChangesKeyedByRowIdWithDeletesAsTombstones() throws Exception {
        start(new SimpleMeterRegistry());
        String tenant = "cdc-" + run;
        long priceId;
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO tenants (id, name, tier, default_priority, max_priority, weight, rpm_limit, monthly_budget) "
                    + "VALUES ('" + tenant + "', 'Cdc', 'gold', 'low', 'realtime', 2.5, 60, 12.345678)");
            st.execute("INSERT INTO api_keys (id, tenant_id, key_hash, name) VALUES ('k-" + run + "', '" + tenant
                    + "', 'hash-" + run + "', 'first')");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_prices (model, currency, input_per_million, "
                    + "output_per_million, cached_input_per_million, effective_from) VALUES (?, 'EUR', 0.000001, "
                    + "123456789012.123456, NULL, '2026-02-03T04:05:06.789Z') RETURNING id")) {
                ps.setString(1, "cdc-model-" + run);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    priceId = rs.getLong(1);
                }
            }
            st.execute("UPDATE api_keys SET revoked_at = '2026-05-01T00:00:00Z' WHERE id = 'k-" + run + "'");
            st.execute("DELETE FROM model_prices WHERE id = " + priceId);
        }

        List<ConsumerRecord<String, byte[]>> prices = awaitRaw(catalog.configPrices().name(), Long.toString(priceId), 2);
        assertThat(prices).hasSize(2);
        ModelPrice p = infra.serdes().value(ModelPrice.class).deserialize(prices.get(0).topic(), prices.get(0).value());
        assertThat(p.getId()).isEqualTo(priceId);
        assertThat(p.getCurrency()).isEqualTo("EUR");
        assertThat(p.getInputPerMillion()).isEqualTo(new BigDecimal("0.000001"));
        assertThat(p.getOutputPerMillion()).isEqualTo(new BigDecimal("123456789012.123456"));
        assertThat(p.getCachedInputPerMillion()).isNull();
        assertThat(p.getEffectiveFrom()).isEqualTo(Instant.parse("2026-02-03T04:05:06.789Z"));
        assertThat(prices.get(1).value()).as("a delete is a tombstone").isNull();

        Tenant t = await(catalog.configTenants(), tenant, 1).get(0).value();
        assertThat(t.getName()).isEqualTo("Cdc");
        assertThat(t.getTier()).isEqualTo("gold");
        assertThat(t.getDefaultPriority()).isEqualTo(Priority.LOW);
        assertThat(t.getMaxPriority()).isEqualTo(Priority.REALTIME);
        assertThat(t.getWeight()).isEqualTo(2.5);
        assertThat(t.getRpmLimit()).isEqualTo(60);
        assertThat(t.getTpmLimit()).isNull();
        assertThat(t.getMonthlyBudget()).isEqualTo(new BigDecimal("12.345678"));

        List<Received<ApiKey>> keys = await(catalog.configApiKeys(), "k-" + run, 2);
        assertThat(keys).hasSize(2);
        assertThat(keys.get(0).value().getRevokedAt()).isNull();
        assertThat(keys.get(1).value().getRevokedAt()).isEqualTo(Instant.parse("2026-05-01T00:00:00Z"));
        assertThat(keys.get(1).value().getKeyHash()).isEqualTo("hash-" + run);
    }

    @Test
    void shouldResumeFromItsOffsetsAfterARestartWithoutANewSnapshot() throws Exception {
        String model = "resume-" + run;
        long id = insertPrice(model, "1.000000");
        SimpleMeterRegistry first = new SimpleMeterRegistry();
        CdcEngine engine = start(first);
        assertThat(await(catalog.configPrices(), Long.toString(id), 1)).hasSize(1);
        assertThat(first.counter("llmq_billing_cdc_snapshot_records").count()).as("first start snapshots").isPositive();

        engine.close();
        engines.remove(engine);
        // a change made while the engine is down is kept by the slot and streamed after the restart
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE model_prices SET input_per_million = 2.000000 WHERE id = " + id);
        }
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        start(second);

        List<Received<ModelPrice>> changes = await(catalog.configPrices(), Long.toString(id), 2);
        assertThat(changes).extracting(r -> r.value().getInputPerMillion())
                .containsExactly(new BigDecimal("1.000000"), new BigDecimal("2.000000"));
        assertThat(second.counter("llmq_billing_cdc_snapshot_records").count()).as("no snapshot after restart").isZero();
    }

    private long insertPrice(String model, String input) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO model_prices (model, "
                + "input_per_million, output_per_million) VALUES (?, ?::numeric, 1) RETURNING id")) {
            ps.setString(1, model);
            ps.setString(2, input);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private <V extends SpecificRecord> List<Received<V>> await(llmq.topics.catalog.TopicSpec<V> topic, String key, int n) {
        try (KafkaIo io = new KafkaIo(infra)) {
            return io.await(topic, r -> key.equals(r.key()), n);
        }
    }

    /** Raw records of {@code key} (tombstones included), waiting for {@code n}. */
    private List<ConsumerRecord<String, byte[]>> awaitRaw(String topic, String key, int n) {
        Map<String, Object> c = new java.util.HashMap<>(infra.kafkaConfig().common("cdc-it-reader"));
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + KafkaIo.TIMEOUT.toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (key.equals(r.key())) {
                        out.add(r);
                    }
                }
            }
        }
        return out;
    }
}
