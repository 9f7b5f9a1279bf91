package llmq.billing.rerate;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.billing.pricing.Pricing;
import llmq.common.db.DbConfig;
import llmq.common.kafka.KafkaConfig;
import llmq.schemas.serde.AvroSerde;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-prices the usage of a time range under the prices the {@code model_prices} table holds now,
 * into {@code usage_rerated} under a run id, leaving {@code usage_records} (what was billed)
 * untouched, so the two can be compared before anyone decides to correct a bill.
 *
 * <p>It reads {@code llm.usage} (read-committed) from the offsets of the range's start
 * ({@code offsetsForTimes}, less a slack for clock skew) to the end the topic had when the run
 * began, takes the usage whose call finished in [from, to), and prices each request with the row
 * of its model in effect at its usage time, exactly as billing does. A request id seen twice keeps
 * its first usage, as billing does. Idempotent per run id: running it again adds nothing.
 */
public final class Rerater {

    private static final Logger LOG = LoggerFactory.getLogger(Rerater.class);
    private static final int BATCH = 1_000;
    private static final Duration SLACK = Duration.ofMinutes(5);

    private static final String INSERT = "INSERT INTO usage_rerated (run_id, request_id, tenant_id, model, prompt_tokens, "
            + "completion_tokens, cached_prompt_tokens, currency, input_price_per_million, output_price_per_million, "
            + "cached_input_price_per_million, price_effective_from, input_cost, output_cost, total_cost, unpriced, used_at) "
            + "SELECT ?, r, t, m, p, c, ca, cu, ip::numeric, op::numeric, cp::numeric, "
            + "CASE WHEN ef IS NULL THEN NULL ELSE timestamptz 'epoch' + ef * interval '1 millisecond' END, "
            + "ic::numeric, oc::numeric, tc::numeric, un, timestamptz 'epoch' + ua * interval '1 millisecond' "
            + "FROM unnest(?::text[], ?::text[], ?::text[], ?::int4[], ?::int4[], ?::int4[], ?::text[], ?::text[], ?::text[], "
            + "?::text[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::bool[], ?::int8[]) "
            + "AS u(r, t, m, p, c, ca, cu, ip, op, cp, ef, ic, oc, tc, un, ua) "
            + "ON CONFLICT (run_id, request_id) DO NOTHING";

    /**
     * What a run did.
     *
     * @param read       usage events read from the topic
     * @param inRange    of those, events in [from, to)
     * @param rows       rows of this run in usage_rerated
     * @param unpriced   rows without a price
     * @param rerated    re-rated cost per currency
     * @param billed     for the same request ids, the cost billed in usage_records, per currency
     * @param notBilled  rows whose request id has no usage_records row (yet)
     */
    public record Summary(String runId, Instant from, Instant to, long read, long inRange, long rows, long unpriced,
                          Map<String, BigDecimal> rerated, Map<String, BigDecimal> billed, long notBilled) {
    }

    private final KafkaConfig kafka;
    private final DbConfig db;
    private final String usageTopic;
    private final AvroSerde<UsageEvent> serde;

    public Rerater(KafkaConfig kafka, DbConfig db, String usageTopic, AvroSerde<UsageEvent> serde) {
        this.kafka = kafka;
        this.db = db;
        this.usageTopic = usageTopic;
        this.serde = serde;
    }

    /** Re-rates [from, to) under run {@code runId}. */
    public Summary run(String runId, Instant from, Instant to) throws SQLException {
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("--from must be before --to");
        }
        Map<String, List<ModelPrice>> prices = loadPrices();
        long read = 0;
        long inRange = 0;
        try (Connection c = db.connect()) {
            startRun(c, runId, from, to);
            try (KafkaConsumer<String, byte[]> consumer = consumer()) {
                Map<TopicPartition, Long> end = seek(consumer, from.minus(SLACK));
                Map<String, BillingRecord> batch = new LinkedHashMap<>();
                Instant now = Instant.now();
                while (!reached(consumer, end)) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        if (r.offset() >= end.getOrDefault(new TopicPartition(r.topic(), r.partition()), 0L)) {
                            continue;
                        }
                        read++;
                        UsageEvent u;
                        try {
                            u = serde.deserialize(r.topic(), r.value());
                        } catch (RuntimeException e) {
                            LOG.warn("skipping undecodable usage {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
                            continue;
                        }
                        if (u == null || u.getAt().isBefore(from) || !u.getAt().isBefore(to)) {
                            continue;
                        }
                        inRange++;
                        batch.putIfAbsent(u.getRequestId(), Pricing.price(u,
                                Pricing.effective(prices.getOrDefault(u.getModel(), List.of()), u.getModel(), u.getAt()), now));
                        if (batch.size() >= BATCH) {
                            insert(c, runId, batch.values());
                            batch.clear();
                        }
                    }
                }
                insert(c, runId, batch.values());
            }
            return finish(c, runId, from, to, read, inRange);
        }
    }

    private Map<String, List<ModelPrice>> loadPrices() throws SQLException {
        Map<String, List<ModelPrice>> out = new HashMap<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT id, model, currency, input_per_million, output_per_million, "
                     + "cached_input_per_million, effective_from FROM model_prices");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                BigDecimal cached = rs.getBigDecimal(6);
                ModelPrice p = ModelPrice.newBuilder().setId(rs.getLong(1)).setModel(rs.getString(2))
                        .setCurrency(rs.getString(3)).setInputPerMillion(rs.getBigDecimal(4).setScale(6))
                        .setOutputPerMillion(rs.getBigDecimal(5).setScale(6))
                        .setCachedInputPerMillion(cached == null ? null : cached.setScale(6))
                        .setEffectiveFrom(rs.getTimestamp(7).toInstant()).build();
                out.computeIfAbsent(p.getModel(), m -> new ArrayList<>()).add(p);
            }
        }
        return out;
    }

    private static void startRun(Connection c, String runId, Instant from, Instant to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rerate_runs (run_id, range_from, range_to) "
                + "VALUES (?, ?, ?) ON CONFLICT (run_id) DO NOTHING")) {
            ps.setString(1, runId);
            ps.setTimestamp(2, Timestamp.from(from));
            ps.setTimestamp(3, Timestamp.from(to));
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT range_from, range_to FROM rerate_runs WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getTimestamp(1).toInstant().equals(from) || !rs.getTimestamp(2).toInstant().equals(to)) {
                    throw new IllegalArgumentException("run " + runId + " already exists for another range ("
                            + rs.getTimestamp(1).toInstant() + " .. " + rs.getTimestamp(2).toInstant() + "); choose another --run-id");
                }
            }
        }
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> p = new HashMap<>(kafka.common("llmq-billing-rerate"));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Assigns every partition at the first offset at or after {@code start}; returns the current end offsets. */
    private Map<TopicPartition, Long> seek(KafkaConsumer<String, byte[]> consumer, Instant start) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(usageTopic)) {
            partitions.add(new TopicPartition(usageTopic, p.partition()));
        }
        consumer.assign(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, start.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(query);
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp o = offsets.get(tp);
            consumer.seek(tp, o == null ? end.get(tp) : o.offset());
        }
        return end;
    }

    private static boolean reached(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static void insert(Connection c, String runId, java.util.Collection<BillingRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return;
        }
        int n = records.size();
        String[] request = new String[n];
        String[] tenant = new String[n];
        String[] model = new String[n];
        Integer[] prompt = new Integer[n];
        Integer[] completion = new Integer[n];
        Integer[] cached = new Integer[n];
        String[] currency = new String[n];
        String[] inPrice = new String[n];
        String[] outPrice = new String[n];
        String[] cachedPrice = new String[n];
        Long[] effective = new Long[n];
        String[] inCost = new String[n];
        String[] outCost = new String[n];
        String[] totalCost = new String[n];
        Boolean[] unpriced = new Boolean[n];
        Long[] usedAt = new Long[n];
        int i = 0;
        for (BillingRecord b : records) {
            UsageEvent u = b.getUsage();
            request[i] = u.getRequestId();
            tenant[i] = u.getTenantId();
            model[i] = u.getModel();
            prompt[i] = u.getPromptTokens();
            completion[i] = u.getCompletionTokens();
            cached[i] = u.getCachedPromptTokens();
            currency[i] = b.getCurrency();
            inPrice[i] = plain(b.getInputPricePerMillion());
            outPrice[i] = plain(b.getOutputPricePerMillion());
            cachedPrice[i] = plain(b.getCachedInputPricePerMillion());
            effective[i] = b.getPriceEffectiveFrom() == null ? null : b.getPriceEffectiveFrom().toEpochMilli();
            inCost[i] = b.getInputCost().toPlainString();
            outCost[i] = b.getOutputCost().toPlainString();
            totalCost[i] = b.getTotalCost().toPlainString();
            unpriced[i] = b.getUnpriced();
            usedAt[i] = u.getAt().toEpochMilli();
            i++;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            int p = 1;
            ps.setString(p++, runId);
            ps.setArray(p++, c.createArrayOf("text", request));
            ps.setArray(p++, c.createArrayOf("text", tenant));
            ps.setArray(p++, c.createArrayOf("text", model));
            ps.setArray(p++, c.createArrayOf("int4", prompt));
            ps.setArray(p++, c.createArrayOf("int4", completion));
            ps.setArray(p++, c.createArrayOf("int4", cached));
            ps.setArray(p++, c.createArrayOf("text", currency));
            ps.setArray(p++, c.createArrayOf("text", inPrice));
            ps.setArray(p++, c.createArrayOf("text", outPrice));
            ps.setArray(p++, c.createArrayOf("text", cachedPrice));
            ps.setArray(p++, c.createArrayOf("int8", effective));
            ps.setArray(p++, c.createArrayOf("text", inCost));
            ps.setArray(p++, c.createArrayOf("text", outCost));
            ps.setArray(p++, c.createArrayOf("text", totalCost));
            ps.setArray(p++, c.createArrayOf("bool", unpriced));
            ps.setArray(p, c.createArrayOf("int8", usedAt));
            ps.executeUpdate();
        }
    }

    private static String plain(BigDecimal d) {
        return d == null ? null : d.toPlainString();
    }

    private static Summary finish(Connection c, String runId, Instant from, Instant to, long read, long inRange)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE rerate_runs SET finished_at = now(), "
                + "requests = (SELECT count(*) FROM usage_rerated WHERE run_id = ?), "
                + "unpriced = (SELECT count(*) FROM usage_rerated WHERE run_id = ? AND unpriced) WHERE run_id = ?")) {
            ps.setString(1, runId);
            ps.setString(2, runId);
            ps.setString(3, runId);
            ps.executeUpdate();
        }
        long rows = 0;
        long unpriced = 0;
        long notBilled = 0;
        Map<String, BigDecimal> rerated = new TreeMap<>();
        Map<String, BigDecimal> billed = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r.currency, count(*), count(*) FILTER (WHERE r.unpriced), "
                + "count(*) FILTER (WHERE u.request_id IS NULL), sum(r.total_cost), coalesce(sum(u.total_cost), 0) "
                + "FROM usage_rerated r LEFT JOIN usage_records u ON u.request_id = r.request_id "
                + "WHERE r.run_id = ? GROUP BY r.currency")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows += rs.getLong(2);
                    unpriced += rs.getLong(3);
                    notBilled += rs.getLong(4);
                    rerated.put(rs.getString(1), rs.getBigDecimal(5));
                    billed.put(rs.getString(1), rs.getBigDecimal(6));
                }
            }
        }
        return new Summary(runId, from, to, read, inRange, rows, unpriced, rerated, billed, notBilled);
    }
}
