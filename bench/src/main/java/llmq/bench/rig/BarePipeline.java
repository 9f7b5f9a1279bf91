package llmq.bench.rig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The end-to-end path's shape with no llmq code in it, for the ratio of the end-to-end scenario: a
 * closed loop keeps {@code outstanding} records in a pipeline of as many exactly-once transactions
 * as a request passes through on its way to COMPLETED —
 * <ol>
 *   <li>a producer with llmq's intake settings (ingest-api's write),</li>
 *   <li>a pass-through Kafka Streams app with a repartition and llmq's Streams settings, at the
 *       router's commit interval (the router's two transactions),</li>
 *   <li>a read-committed consumer and a transactional producer that commits the records it wrote
 *       with their offsets at the worker's commit interval (the worker's transaction),</li>
 *   <li>a read-committed reader downstream, whose receipt of a record lets the loop send the next.</li>
 * </ol>
 * Its completed records per second are the rate that shape reaches on the same broker and machine,
 * in the same JVM, at the same concurrency: the limit a closed loop of that many llmq requests is
 * compared with. Kafka's {@code ProducerPerformance}, a fresh JVM pushing records as fast as it can,
 * is a different shape: its rate swung between about 65 000 and 124 000 records/s from one
 * half-minute to the next while llmq's closed loop moved by 4 %.
 */
public final class BarePipeline implements AutoCloseable {

    /** One closed-loop round: records received downstream per second over the window, and the totals. */
    public record Round(double completedPerSecond, long sent, long received) {
    }

    private final Kafka kafka;
    private final String in;
    private final String out;
    private final byte[] value;
    private final KafkaStreams streams;
    private final Thread stage;
    private final Thread reader;
    private final KafkaProducer<String, byte[]> sender;
    private final AtomicLong received = new AtomicLong();
    private volatile Semaphore permits;
    private volatile boolean running = true;
    private volatile Throwable failure;

    private BarePipeline(Kafka kafka, Path stateDir, int partitions, Duration streamsCommit, Duration transactionCommit,
                         int recordSize) throws Exception {
        this.kafka = kafka;
        String run = "bench-pipe-" + UUID.randomUUID().toString().substring(0, 8);
        this.in = run + "-in";
        String mid = run + "-mid";
        this.out = run + "-out";
        this.value = new byte[recordSize];
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(in, partitions, (short) 1), new NewTopic(mid, partitions, (short) 1),
                    new NewTopic(out, partitions, (short) 1))).all().get();
        }
        this.streams = BareEosHop.startRunning(kafka, run, stateDir, streamsCommit, BareEosHop.topology(in, mid, true));
        this.stage = new Thread(() -> transactionalStage(run, mid, transactionCommit), "bench-pipe-stage");
        stage.setDaemon(true);
        stage.start();
        this.reader = new Thread(this::read, "bench-pipe-reader");
        reader.setDaemon(true);
        reader.start();
        this.sender = kafka.ingestProducer();
    }

    /**
     * Creates the pipeline's topics ({@code partitions} each) and starts its stages.
     *
     * @param streamsCommit     the Streams app's commit interval (the router's)
     * @param transactionCommit the consume-produce stage's least time between commits (the worker's)
     * @param recordSize        bytes of each record's value (an intake request's Avro size)
     */
    public static BarePipeline start(Kafka kafka, Path stateDir, int partitions, Duration streamsCommit,
                                     Duration transactionCommit, int recordSize) throws Exception {
        return new BarePipeline(kafka, stateDir, partitions, streamsCommit, transactionCommit, recordSize);
    }

    /** The worker's shape: poll read-committed, write each record on, commit output and offsets together. */
    private void transactionalStage(String run, String mid, Duration commitInterval) {
        Map<String, Object> pc = new HashMap<>(kafka.config().producer(run + "-stage-producer"));
        pc.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, run + "-stage");
        Map<String, Object> cc = new HashMap<>(kafka.config().consumer(run + "-stage-consumer", run + "-stage"));
        cc.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        cc.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer());
             KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(cc, new StringDeserializer(),
                     new ByteArrayDeserializer())) {
            producer.initTransactions();
            consumer.subscribe(List.of(mid));
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            long lastCommit = System.nanoTime();
            boolean open = false;
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(5));
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (!open) {
                        producer.beginTransaction();
                        open = true;
                    }
                    producer.send(new ProducerRecord<>(out, r.key(), r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                long now = System.nanoTime();
                if (open && now - lastCommit >= commitInterval.toNanos()) {
                    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                    producer.commitTransaction();
                    offsets.clear();
                    open = false;
                    lastCommit = now;
                }
            }
        } catch (Throwable e) {
            failure = e;
        }
    }

    private void read() {
        try (KafkaConsumer<String, byte[]> c = kafka.tail(List.of(out))) {
            while (running) {
                int n = c.poll(Duration.ofMillis(10)).count();
                if (n > 0) {
                    received.addAndGet(n);
                    Semaphore p = permits;
                    if (p != null) {
                        p.release(n);
                    }
                }
            }
        } catch (Throwable e) {
            failure = e;
        }
    }

    /**
     * A closed loop of {@code outstanding} records for {@code leadIn + window}: each record received
     * downstream lets one more be sent; counts receipts over the window; then waits up to {@code drain}
     * until every record sent was received (and fails if one was not).
     */
    public Round closed(int outstanding, Duration leadIn, Duration window, Duration drain) throws Exception {
        check();
        long receivedBefore = received.get();
        Semaphore p = new Semaphore(outstanding);
        permits = p;
        long sent = 0;
        long start = System.nanoTime();
        long windowStart = start + leadIn.toNanos();
        long windowEnd = windowStart + window.toNanos();
        long atWindowStart = -1;
        long windowStartNanos = 0;
        while (true) {
            long now = System.nanoTime();
            if (atWindowStart < 0 && now >= windowStart) {
                atWindowStart = received.get();
                windowStartNanos = now;
            }
            if (now >= windowEnd) {
                break;
            }
            if (p.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                sender.send(new ProducerRecord<>(in, "p" + sent, value));
                sent++;
            }
            check();
        }
        long atWindowEnd = received.get();
        long windowEndNanos = System.nanoTime();
        permits = null;
        sender.flush();
        long deadline = System.nanoTime() + drain.toNanos();
        while (received.get() - receivedBefore < sent) {
            check();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("bare pipeline: " + (received.get() - receivedBefore) + " of " + sent
                        + " records came through within " + drain.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
        double perSecond = (atWindowEnd - atWindowStart) * 1e9 / Math.max(1, windowEndNanos - windowStartNanos);
        return new Round(perSecond, sent, received.get() - receivedBefore);
    }

    /** Throws if a stage of the pipeline died. */
    public void check() {
        if (failure != null) {
            throw new IllegalStateException("bare pipeline failed: " + failure, failure);
        }
        KafkaStreams.State s = streams.state();
        if (s == KafkaStreams.State.ERROR || s == KafkaStreams.State.PENDING_ERROR) {
            throw new IllegalStateException("bare pipeline's Streams app failed: " + s);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sender.close(Duration.ofSeconds(10));
        stage.join(10_000);
        reader.join(10_000);
        streams.close(Duration.ofSeconds(20));
    }
}
