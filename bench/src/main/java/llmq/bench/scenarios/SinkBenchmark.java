package llmq.bench.scenarios;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.billing.cdc.CdcConfig;
import llmq.billing.cdc.CdcEngine;
import llmq.testsupport.ReplicationSlots;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.pricing.Pricing;
import llmq.billing.sink.BillingSink;
import llmq.billing.sink.UsageRecordWriter;
import llmq.common.db.DbConfig;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Benchmark (not a test) of billing's PostgreSQL sink against the same PostgreSQL, in one run:
 *
 * <ol>
 *   <li><b>sink</b>: {@link BillingSink} draining N billing records from a topic into
 *       {@code usage_records} (read-committed consumer, one transaction and one offset commit per
 *       poll of up to 500 records, rows as one {@code INSERT ... SELECT FROM unnest(...) ON CONFLICT
 *       DO NOTHING});</li>
 *   <li><b>plain JDBC</b>: the same number of rows written by a plain batched
 *       {@code INSERT ... ON CONFLICT DO NOTHING} ({@code reWriteBatchedInserts=true}, 500 rows a
 *       batch, one commit a batch), no Kafka;</li>
 *   <li><b>sink writer alone</b>: the sink's unnest upsert fed from memory, no Kafka.</li>
 * </ol>
 *
 * Rounds alternate the three; the median round is reported, and the ratio sink ÷ plain is the median of
 * the rounds' own ratios. It also measures change data
 * capture: commit of a {@code model_prices} update to its record on {@code llm.config.prices}.
 * Prints a table and writes {@code billing-sink.json} into {@code -Dbench.out} (default docs/benchmarks/).
 *
 * <p>Run through the harness: {@code bench/run sink} (scenario 7). Standalone: {@code java -cp <bench classpath>
 * [-Dbench.rows=50000] [-Dbench.rounds=5] [-Dbench.batch=500] llmq.bench.scenarios.SinkBenchmark}
 */
public final class SinkBenchmark {

    private static final int BATCH = Integer.getInteger("bench.batch", 500);

    private SinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("bench.rows", 50_000);
        int rounds = Integer.getInteger("bench.rounds", 5);
        int cdcChanges = Integer.getInteger("bench.cdc-changes", 30);
        Infra infra = Infra.get();
        int status = 0;
        try {
            ObjectNode result = run(infra, rows, rounds, cdcChanges);
            Path out = output();
            Files.createDirectories(out.getParent());
            Files.writeString(out, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(result) + "\n");
            System.out.println("written " + out.toAbsolutePath().normalize());
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        } finally {
            infra.close();
        }
        System.exit(status);
    }

    /** {@code -Dbench.out} (the scenario's results directory) or docs/benchmarks/, + billing-sink.json. */
    private static Path output() {
        String dir = System.getProperty("bench.out");
        if (dir != null) {
            return Path.of(dir).resolve("billing-sink.json");
        }
        Path here = Path.of("").toAbsolutePath();
        Path root = Files.isDirectory(here.resolve("docs")) ? here : here.getParent();
        return root.resolve("docs").resolve("benchmarks").resolve("billing-sink.json");
    }

    private static ObjectNode run(Infra infra, int rows, int rounds, int cdcChanges) throws Exception {
        DbConfig db = infra.postgres().db();
        String run = UUID.randomUUID().toString().substring(0, 8);
        double[] plain = new double[rounds];
        double[] writer = new double[rounds];
        double[] sinkRate = new double[rounds];
        double[] ratio = new double[rounds];
        // warm-up: JIT, connections, schema registration, PostgreSQL caches
        sinkRound(infra, db, run + "-w", Math.min(rows, 5_000));
        plainRound(db, records(run + "-wp", Math.min(rows, 5_000)));
        for (int r = 0; r < rounds; r++) {
            sinkRate[r] = sinkRound(infra, db, run + "-" + r, rows);
            plain[r] = plainRound(db, records(run + "-p" + r, rows));
            writer[r] = writerRound(db, records(run + "-u" + r, rows));
            ratio[r] = sinkRate[r] / plain[r];
            System.out.printf("round %d: sink %.0f rows/s, plain batched JDBC %.0f rows/s, sink writer alone %.0f rows/s%n",
                    r + 1, sinkRate[r], plain[r], writer[r]);
        }
        long[] cdc = cdcLatencies(infra, db, run, cdcChanges);

        ObjectNode doc = Json.mapper().createObjectNode();
        doc.put("benchmark", "billing-sink");
        doc.put("at", Instant.now().toString());
        doc.put("machine", Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        doc.put("postgresql", "embedded (zonky), fsync off, synchronous_commit on, same host");
        doc.put("rows_per_round", rows);
        doc.put("rounds", rounds);
        doc.put("batch", BATCH);
        ObjectNode rates = doc.putObject("rows_per_second_median");
        rates.put("sink", Math.round(median(sinkRate)));
        rates.put("plain_batched_jdbc_upsert", Math.round(median(plain)));
        rates.put("sink_writer_without_kafka", Math.round(median(writer)));
        ObjectNode all = doc.putObject("rows_per_second_rounds");
        all.set("sink", array(sinkRate));
        all.set("plain_batched_jdbc_upsert", array(plain));
        all.set("sink_writer_without_kafka", array(writer));
        // the ratio pairs each sink round with the plain round right after it: the machine's speed drifts within a
        // minute, and the ratio of two medians, each taken over rounds minutes apart, moved by a fifth between runs
        ArrayNode ratios = doc.putArray("sink_vs_plain_rounds");
        Arrays.stream(ratios(ratio)).forEach(ratios::add);
        doc.put("sink_vs_plain", Math.round(1000.0 * median(ratio)) / 1000.0);
        ObjectNode c = doc.putObject("cdc_commit_to_topic_ms");
        c.put("changes", cdc.length);
        c.put("p50", cdc[cdc.length / 2]);
        c.put("p90", cdc[(int) Math.floor(cdc.length * 0.9)]);
        c.put("max", cdc[cdc.length - 1]);
        doc.put("notes", "sink: llm.billing-shaped topic with 6 partitions, drained by one BillingSink (read_committed, "
                + "offsets committed after each database commit); plain: PreparedStatement batch of the same INSERT ... "
                + "ON CONFLICT (request_id) DO NOTHING; both into the same usage_records table, fresh request ids each round. "
                + "cdc: UPDATE of one model_prices row (auto-commit) until its change is read from llm.config.prices, "
                + "Debezium embedded, pgoutput, poll.interval.ms=50.");
        System.out.printf("%nmedian of %d rounds, %d rows each:%n", rounds, rows);
        System.out.printf("  %-34s %10d rows/s%n", "billing sink (Kafka -> PostgreSQL)", Math.round(median(sinkRate)));
        System.out.printf("  %-34s %10d rows/s%n", "plain batched JDBC upsert", Math.round(median(plain)));
        System.out.printf("  %-34s %10d rows/s%n", "sink writer alone (no Kafka)", Math.round(median(writer)));
        System.out.printf("  CDC commit -> llm.config.prices: p50 %d ms, p90 %d ms, max %d ms (%d changes)%n",
                cdc[cdc.length / 2], cdc[(int) Math.floor(cdc.length * 0.9)], cdc[cdc.length - 1], cdc.length);
        return doc;
    }

    private static ArrayNode array(double[] values) {
        ArrayNode a = Json.mapper().createArrayNode();
        Arrays.stream(values).forEach(v -> a.add(Math.round(v)));
        return a;
    }

    private static double[] ratios(double[] values) {
        return Arrays.stream(values).map(v -> Math.round(1000.0 * v) / 1000.0).toArray();
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Billing records with fresh request ids, priced like billing prices them. */
    private static List<BillingRecord> records(String prefix, int n) {
        ModelPrice price = ModelPrice.newBuilder().setId(1).setModel("bench-model").setCurrency("USD")
                .setInputPerMillion(new BigDecimal("0.150000")).setOutputPerMillion(new BigDecimal("0.600000"))
                .setEffectiveFrom(Instant.EPOCH).build();
        List<BillingRecord> out = new ArrayList<>(n);
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            UsageEvent u = UsageEvent.newBuilder().setRequestId(prefix + "-" + i).setTenantId("bench-" + (i % 20))
                    .setModel("bench-model").setEndpoint("sim").setPromptTokens(10 + i % 300)
                    .setCompletionTokens(20 + i % 500).setLatencyMs(100).setAt(now).build();
            out.add(Pricing.price(u, java.util.Optional.of(price), now));
        }
        return out;
    }

    private static double sinkRound(Infra infra, DbConfig db, String run, int n) throws Exception {
        String topic = "bench.billing-" + run;
        String aggregates = "bench.aggregates-" + run;
        try (Admin admin = infra.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1), new NewTopic(aggregates, 1, (short) 1))).all().get();
        }
        Map<String, Object> p = new HashMap<>(infra.kafkaConfig().producer("bench-producer"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(n);
            for (BillingRecord b : records(run, n)) {
                sent.add(producer.send(new ProducerRecord<>(topic, b.getUsage().getTenantId(),
                        infra.serdes().value(BillingRecord.class).serialize(topic, b))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
        Map<String, Object> c = new HashMap<>(infra.kafkaConfig().consumer("bench-sink", "bench-sink-" + run));
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, BATCH);
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        BillingSink sink = new BillingSink(new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer()),
                topic, aggregates, infra.serdes().value(BillingRecord.class), infra.serdes().value(UsageAggregate.class),
                db, metrics);
        Thread thread = new Thread(sink, "bench-sink");
        long t0 = System.nanoTime();
        thread.start();
        long deadline = t0 + Duration.ofMinutes(5).toNanos();
        while (metrics.counter("llmq_billing_sink_rows").count() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        sink.stop();
        thread.join(10_000);
        if (metrics.counter("llmq_billing_sink_rows").count() < n) {
            throw new IllegalStateException("sink wrote only " + metrics.counter("llmq_billing_sink_rows").count() + " of " + n);
        }
        return n / seconds;
    }

    private static double plainRound(DbConfig db, List<BillingRecord> records) throws SQLException {
        String sql = "INSERT INTO usage_records (request_id, tenant_id, model, endpoint, prompt_tokens, completion_tokens, "
                + "cached_prompt_tokens, estimated, currency, input_cost, output_cost, total_cost, unpriced, latency_ms, "
                + "attempt, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING";
        long t0 = System.nanoTime();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            c.setAutoCommit(false);
            int inBatch = 0;
            for (BillingRecord b : records) {
                UsageEvent u = b.getUsage();
                ps.setString(1, u.getRequestId());
                ps.setString(2, u.getTenantId());
                ps.setString(3, u.getModel());
                ps.setString(4, u.getEndpoint());
                ps.setInt(5, u.getPromptTokens());
                ps.setInt(6, u.getCompletionTokens());
                ps.setInt(7, u.getCachedPromptTokens());
                ps.setBoolean(8, u.getEstimated());
                ps.setString(9, b.getCurrency());
                ps.setBigDecimal(10, b.getInputCost());
                ps.setBigDecimal(11, b.getOutputCost());
                ps.setBigDecimal(12, b.getTotalCost());
                ps.setBoolean(13, b.getUnpriced());
                ps.setLong(14, u.getLatencyMs());
                ps.setInt(15, u.getAttempt());
                ps.setTimestamp(16, Timestamp.from(u.getAt()));
                ps.addBatch();
                if (++inBatch == BATCH) {
                    ps.executeBatch();
                    c.commit();
                    inBatch = 0;
                }
            }
            ps.executeBatch();
            c.commit();
        }
        return records.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private static double writerRound(DbConfig db, List<BillingRecord> records) throws SQLException {
        long t0 = System.nanoTime();
        try (Connection c = db.connect()) {
            for (int i = 0; i < records.size(); i += BATCH) {
                UsageRecordWriter.write(c, records.subList(i, Math.min(records.size(), i + BATCH)));
            }
        }
        return records.size() / ((System.nanoTime() - t0) / 1e9);
    }

    /** Milliseconds from each committed price update to its record on llm.config.prices, sorted. */
    private static long[] cdcLatencies(Infra infra, DbConfig db, String run, int changes) throws Exception {
        String slot = "bench_" + run.replace("-", "_");
        long id;
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            try (var rs = st.executeQuery("INSERT INTO model_prices (model, input_per_million, output_per_million) "
                    + "VALUES ('bench-cdc-" + run + "', 1, 1) RETURNING id")) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        CdcEngine engine = CdcEngine.start(CdcConfig.from(infra.settings(Map.of("billing.cdc.slot", slot,
                "billing.cdc.name", "bench-cdc-" + run)), db), infra.kafkaConfig(), infra.catalog(), infra.serdes(), db,
                new SimpleMeterRegistry());
        long[] out = new long[changes];
        Map<String, Object> c = new HashMap<>(infra.kafkaConfig().common("bench-cdc-reader"));
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
             Connection conn = db.connect(); PreparedStatement update = conn.prepareStatement(
                     "UPDATE model_prices SET input_per_million = ? WHERE id = ?")) {
            if (!engine.awaitLive(Duration.ofSeconds(60))) {
                throw new IllegalStateException("CDC not live");
            }
            TopicPartition tp = new TopicPartition(infra.catalog().configPrices().name(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            consumer.position(tp);
            for (int i = 0; i < changes; i++) {
                BigDecimal price = new BigDecimal(100 + i).setScale(6);
                update.setBigDecimal(1, price);
                update.setLong(2, id);
                long t0 = System.nanoTime();
                update.executeUpdate();
                boolean seen = false;
                long deadline = t0 + Duration.ofSeconds(30).toNanos();
                while (!seen && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(5))) {
                        if (Long.toString(id).equals(r.key()) && r.value() != null && infra.serdes().value(ModelPrice.class)
                                .deserialize(r.topic(), r.value()).getInputPerMillion().compareTo(price) == 0) {
                            seen = true;
                        }
                    }
                }
                if (!seen) {
                    throw new IllegalStateException("price change " + i + " not seen on the topic");
                }
                out[i] = (System.nanoTime() - t0) / 1_000_000;
                Thread.sleep(50);
            }
        } finally {
            engine.close();
            ReplicationSlots.drop(infra, slot);
        }
        Arrays.sort(out);
        return out;
    }
}
