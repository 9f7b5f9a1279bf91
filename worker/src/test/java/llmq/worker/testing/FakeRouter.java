package llmq.worker.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import llmq.avro.EventType;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.common.kafka.KafkaConfig;
import llmq.testsupport.KafkaIo;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays the router's part of the retry contract in integration tests, until the real router
 * implements it: reads {@code RETRY_SCHEDULED} events of the requests it was told about and,
 * once their {@code not_before} has passed, releases the next attempt to the request's queue
 * (the same {@code QueuedRequest} with {@code attempt + 1} and a new {@code released_at}).
 */
public final class FakeRouter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FakeRouter.class);

    private final KafkaIo kafka;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, QueuedRequest> latest = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Thread reader;
    private volatile boolean running = true;

    public FakeRouter(KafkaConfig config, KafkaIo kafka, TopicCatalog catalog, TopicSerdes serdes) {
        this.kafka = kafka;
        this.catalog = catalog;
        this.serdes = serdes;
        Map<String, Object> c = new java.util.HashMap<>(config.common("fake-router"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(catalog.events().name())) {
            partitions.add(new TopicPartition(p.topic(), p.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        reader = new Thread(this::read, "fake-router");
        reader.start();
    }

    /** Releases {@code q} (its first attempt) and follows its retries. */
    public void release(QueuedRequest q) {
        latest.put(q.getRequest().getId(), q);
        kafka.send(catalog.queue(q.getPriority()), q.getRequest().getId(), q);
    }

    private void read() {
        while (running) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                RequestEvent e;
                try {
                    e = serdes.value(catalog.events()).deserialize(r.topic(), r.value());
                } catch (RuntimeException ignored) {
                    continue;
                }
                if (e == null || e.getType() != EventType.RETRY_SCHEDULED) {
                    continue;
                }
                QueuedRequest q = latest.get(e.getRequestId());
                if (q == null || e.getAttempt() == null || e.getAttempt() != q.getAttempt()) {
                    continue;
                }
                long delay = Math.max(0, Duration.between(Instant.now(), e.getNotBefore()).toMillis());
                timer.schedule(() -> {
                    QueuedRequest next = Requests.nextAttempt(q, Instant.now());
                    latest.put(next.getRequest().getId(), next);
                    try {
                        kafka.send(catalog.queue(next.getPriority()), next.getRequest().getId(), next);
                    } catch (RuntimeException failure) {
                        LOG.error("fake router could not release attempt {} of {}", next.getAttempt(),
                                next.getRequest().getId(), failure);
                    }
                }, delay, TimeUnit.MILLISECONDS);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        reader.join(5_000);
        consumer.close();
        timer.shutdownNow();
    }
}
