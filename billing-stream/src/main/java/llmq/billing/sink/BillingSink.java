package llmq.billing.sink;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import llmq.avro.BillingRecord;
import llmq.common.db.DbConfig;
import llmq.schemas.serde.AvroSerde;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sinks {@code llm.billing} into PostgreSQL: reads committed records, writes them in batched
 * idempotent upserts, and commits the consumer offsets only after the database transaction
 * committed. If PostgreSQL is down it pauses consumption and retries with backoff; nothing is
 * skipped and, because the upserts are idempotent, nothing is doubled when a batch is written
 * again after a crash.
 */
public final class BillingSink implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(BillingSink.class);

    private final Consumer<String, byte[]> consumer;
    private final String topic;
    private final AvroSerde<BillingRecord> serde;
    private final DbConfig db;
    private final Counter rows;
    private final Counter errors;
    private final Counter skipped;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean databaseUp = true;
    private volatile Throwable fatal;
    private Connection connection;

    public BillingSink(Consumer<String, byte[]> consumer, String topic, AvroSerde<BillingRecord> serde, DbConfig db,
                       MeterRegistry metrics) {
        this.consumer = consumer;
        this.topic = topic;
        this.serde = serde;
        this.db = db;
        this.rows = Counter.builder("llmq_billing_sink_rows").description("usage rows inserted").register(metrics);
        this.errors = Counter.builder("llmq_billing_sink_errors").description("failed batch writes").register(metrics);
        this.skipped = Counter.builder("llmq_billing_sink_undecodable").description("undecodable records skipped")
                .register(metrics);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic));
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    continue;
                }
                List<BillingRecord> batch = new ArrayList<>(records.count());
                decode(records, batch);
                writeUntilDone(batch);
                if (running) {
                    consumer.commitSync();
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

    private void decode(ConsumerRecords<String, byte[]> records, List<BillingRecord> batch) {
        for (ConsumerRecord<String, byte[]> r : records) {
            try {
                BillingRecord b = serde.deserialize(r.topic(), r.value());
                if (b != null) {
                    batch.add(b);
                }
            } catch (RuntimeException e) {
                // llm.billing is written only by billing-stream; a record we cannot read is logged
                // with its position and skipped so it never blocks the sink
                skipped.increment();
                LOG.error("skipping undecodable billing record {}-{}@{}: {}", r.topic(), r.partition(),
                        r.offset(), e.toString());
            }
        }
    }

    private void writeUntilDone(List<BillingRecord> batch) {
        long backoff = 100;
        while (running) {
            try {
                if (connection == null || connection.isClosed()) {
                    connection = db.connect();
                }
                rows.increment(UsageRecordWriter.write(connection, batch));
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
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
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
            stopped.await(15, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
