package llmq.billing.sink;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.BillingRecord;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.common.db.DbConfig;
import llmq.schemas.serde.AvroSerde;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sinks billing into PostgreSQL: {@code llm.billing} into {@code usage_records} (one row per
 * request id) and the aggregates topic into {@code usage_hourly}/{@code usage_daily} (upsert of
 * each aggregate's current value). Reads committed records only, writes each poll's records in
 * one database transaction of batched statements, and commits the consumer offsets only after the
 * database committed. If PostgreSQL is down it pauses consumption and retries with backoff;
 * nothing is skipped and, because every write is idempotent, nothing is doubled when records are
 * written again after a crash or a rebalance.
 *
 * <p>Metrics: {@code llmq_billing_sink_rows_total} (usage rows inserted),
 * {@code llmq_billing_sink_aggregate_rows_total}, {@code llmq_billing_sink_errors_total} (failed
 * batch writes), {@code llmq_billing_sink_undecodable_total}, {@code llmq_billing_sink_lag_records}
 * (records on the input topics not yet written) and {@code llmq_billing_sink_batch_age_seconds}
 * (how old the oldest record of the batch being written, or last written, was).
 */
public final class BillingSink implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(BillingSink.class);

    private final Consumer<String, byte[]> consumer;
    private final String billingTopic;
    private final String aggregatesTopic;
    private final AvroSerde<BillingRecord> billingSerde;
    private final AvroSerde<UsageAggregate> aggregateSerde;
    private final DbConfig db;
    private final Counter rows;
    private final Counter aggregateRows;
    private final Counter errors;
    private final Counter skipped;
    private final AtomicLong lagRecords = new AtomicLong();
    private final AtomicLong batchAgeMs = new AtomicLong();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean databaseUp = true;
    private volatile Throwable fatal;
    private Connection connection;

    /** One poll's records, decoded. */
    private record Batch(List<BillingRecord> billing, List<UsageAggregate> aggregates, long[] oldest) {
        Batch() {
            this(new ArrayList<>(), new ArrayList<>(), new long[] {Long.MAX_VALUE});
        }

        boolean isEmpty() {
            return billing.isEmpty() && aggregates.isEmpty();
        }
    }

    public BillingSink(Consumer<String, byte[]> consumer, String billingTopic, String aggregatesTopic,
                       AvroSerde<BillingRecord> billingSerde, AvroSerde<UsageAggregate> aggregateSerde, DbConfig db,
                       MeterRegistry metrics) {
        this.consumer = consumer;
        this.billingTopic = billingTopic;
        this.aggregatesTopic = aggregatesTopic;
        this.billingSerde = billingSerde;
        this.aggregateSerde = aggregateSerde;
        this.db = db;
        this.rows = Counter.builder("llmq_billing_sink_rows").description("usage rows inserted").register(metrics);
        this.aggregateRows = Counter.builder("llmq_billing_sink_aggregate_rows")
                .description("hourly and daily aggregate rows inserted or updated").register(metrics);
        this.errors = Counter.builder("llmq_billing_sink_errors").description("failed batch writes").register(metrics);
        this.skipped = Counter.builder("llmq_billing_sink_undecodable").description("undecodable records skipped")
                .register(metrics);
        Gauge.builder("llmq_billing_sink_lag_records", lagRecords, AtomicLong::get)
                .description("records on llm.billing and the aggregates topic not yet written").register(metrics);
        Gauge.builder("llmq_billing_sink_batch_age_seconds", batchAgeMs, v -> v.get() / 1000.0)
                .description("age of the oldest record in the batch being (or last) written").register(metrics);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(billingTopic, aggregatesTopic));
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(100));
                updateLag();
                if (records.isEmpty()) {
                    continue;
                }
                Batch batch = new Batch();
                decode(records, batch);
                writeUntilDone(batch);
                if (running) {
                    consumer.commitSync();
                    updateLag();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                fatal = e;
                LOG.error("billing sink woken up while running; it has stopped", e);
            }
        } catch (RuntimeException e) {
            // nothing is lost (offsets are committed only after a write), but nothing is sunk
            // either until the service restarts: say so in the health check, not only in the log
            fatal = e;
            LOG.error("billing sink failed and has stopped", e);
        } finally {
            closeConnection();
            consumer.close(Duration.ofSeconds(5));
            stopped.countDown();
        }
    }

    private void decode(ConsumerRecords<String, byte[]> records, Batch batch) {
        for (ConsumerRecord<String, byte[]> r : records) {
            try {
                if (r.topic().equals(billingTopic)) {
                    BillingRecord b = billingSerde.deserialize(r.topic(), r.value());
                    if (b != null) {
                        batch.billing().add(b);
                    }
                } else {
                    UsageAggregate a = aggregateSerde.deserialize(r.topic(), r.value());
                    if (a != null) {
                        batch.aggregates().add(a);
                    }
                }
                batch.oldest()[0] = Math.min(batch.oldest()[0], r.timestamp());
            } catch (RuntimeException e) {
                // only billing-stream writes these topics; a record we cannot read is logged with
                // its position and skipped so it never blocks the sink
                skipped.increment();
                LOG.error("skipping undecodable billing record {}-{}@{}: {}", r.topic(), r.partition(),
                        r.offset(), e.toString());
            }
        }
    }

    private void writeUntilDone(Batch batch) {
        long backoff = 100;
        while (running) {
            batchAgeMs.set(batch.oldest()[0] == Long.MAX_VALUE ? 0 : Math.max(0, System.currentTimeMillis() - batch.oldest()[0]));
            try {
                if (connection == null || connection.isClosed()) {
                    connection = db.connect();
                }
                write(batch);
                if (!databaseUp) {
                    LOG.info("PostgreSQL reachable again; billing sink catching up");
                }
                databaseUp = true;
                consumer.resume(consumer.paused());
                return;
            } catch (SQLException | RuntimeException e) {
                errors.increment();
                if (databaseUp) {
                    LOG.warn("billing sink cannot write to PostgreSQL ({}); retrying with backoff", e.toString());
                }
                databaseUp = false;
                closeConnection();
                consumer.pause(consumer.assignment());
                // keep the group membership alive while waiting; paused partitions return nothing, but
                // partitions newly assigned by a rebalance may: those records join the batch, since the
                // commit after the write covers them
                decode(consumer.poll(Duration.ofMillis(Math.min(backoff, 5_000))), batch);
                consumer.pause(consumer.assignment());
                updateLag();
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }

    private void write(Batch batch) throws SQLException {
        if (batch.isEmpty()) {
            return;
        }
        Connection c = connection;
        c.setAutoCommit(false);
        try {
            int inserted = UsageRecordWriter.insert(c, batch.billing());
            int upserted = AggregateWriter.upsert(c, batch.aggregates());
            c.commit();
            rows.increment(inserted);
            aggregateRows.increment(upserted);
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is broken; it is discarded
            }
            throw e;
        } finally {
            try {
                c.setAutoCommit(true);
            } catch (SQLException ignored) {
                // discarded with the connection
            }
        }
    }

    private void updateLag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                lag += l.getAsLong();
            }
        }
        lagRecords.set(lag);
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the connection is being discarded
            }
            connection = null;
        }
    }

    /** False while PostgreSQL is failing. */
    public boolean databaseUp() {
        return databaseUp;
    }

    /** Why the sink stopped on its own, or null while it runs (or was stopped on purpose). */
    public Throwable fatal() {
        return fatal;
    }

    public void stop() {
        running = false;
        consumer.wakeup();
        try {
            stopped.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
