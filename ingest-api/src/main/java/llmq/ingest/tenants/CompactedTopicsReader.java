package llmq.ingest.tenants;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llmq.topics.provision.Partitions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads compacted topics from the beginning, for ever, handing every record (tombstones included)
 * to the topic's handler, so that an in-memory view follows the topic within one poll. Every
 * instance reads every partition (no consumer group). The view is {@link #ready()} once it has
 * read up to where the topics ended when reading began.
 *
 * <p>A record a handler cannot use is logged with its position and skipped; a broker that cannot
 * be reached is retried. Neither stops the reader.
 */
public final class CompactedTopicsReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CompactedTopicsReader.class);

    /** Applies one record of a topic to a view. */
    @FunctionalInterface
    public interface Handler {
        /** {@code value} is null for a tombstone. */
        void apply(String topic, String key, byte[] value);
    }

    private final Consumer<String, byte[]> consumer;
    private final Map<String, Handler> handlers;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean ready;

    public CompactedTopicsReader(String name, Consumer<String, byte[]> consumer, Map<String, Handler> handlers) {
        this.consumer = consumer;
        this.handlers = Map.copyOf(handlers);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    public CompactedTopicsReader start() {
        thread.start();
        return this;
    }

    private void run() {
        try {
            Map<TopicPartition, Long> end = assign();
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        handlers.get(r.topic()).apply(r.topic(), r.key(), r.value());
                    } catch (RuntimeException e) {
                        LOG.error("skipping unusable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
                    }
                }
                if (!ready && caughtUp(end)) {
                    ready = true;
                    LOG.info("{} loaded", thread.getName());
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("{} woken up while running; the view is frozen", thread.getName(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Assigns every partition of the topics from the beginning; returns where they end now. */
    private Map<TopicPartition, Long> assign() throws InterruptedException {
        long backoff = 200;
        while (true) {
            try {
                List<TopicPartition> partitions = Partitions.of(consumer, handlers.keySet(), Duration.ofSeconds(10));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                return new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(10)));
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                LOG.warn("{} cannot read its topics yet ({}); retrying", thread.getName(), e.toString());
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** True once everything the topics held at start has been applied. */
    public boolean ready() {
        return ready;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
