package llmq.ingest.results;

import java.time.Duration;
import java.util.List;
import llmq.avro.EventType;
import llmq.avro.LlmResult;
import llmq.avro.RequestEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.provision.Partitions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code llm.results} and {@code llm.events} from their end, on every ingest instance and
 * over every partition (no consumer group), so that an instance holding an open connection learns
 * of the result even when another instance owns the request's partition. Only records whose key
 * (the request id) is awaited are decoded: a result completes its waiters, a DEDUPLICATED event
 * points them at the original request. An undecodable record is logged and skipped.
 */
public final class ResultsFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ResultsFollower.class);

    private final Consumer<String, byte[]> consumer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final ResultWaiters waiters;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean assigned;

    public ResultsFollower(Consumer<String, byte[]> consumer, TopicCatalog catalog, TopicSerdes serdes, ResultWaiters waiters) {
        this.consumer = consumer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.waiters = waiters;
        this.thread = new Thread(this::run, "llmq-ingest-results-follower");
        this.thread.setDaemon(true);
    }

    public ResultsFollower start() {
        thread.start();
        return this;
    }

    /** True once it reads from the end of every partition (results written from then on are seen). */
    public boolean ready() {
        return assigned;
    }

    private void run() {
        try {
            assign();
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (!waiters.waitingFor(r.key()) || r.value() == null) {
                        continue;
                    }
                    try {
                        if (r.topic().equals(catalog.results().name())) {
                            LlmResult result = serdes.value(LlmResult.class).deserialize(r.topic(), r.value());
                            waiters.complete(r.key(), result);
                        } else {
                            RequestEvent e = serdes.value(RequestEvent.class).deserialize(r.topic(), r.value());
                            if (e.getType() == EventType.DEDUPLICATED) {
                                waiters.redirect(r.key(), e.getRelatedRequestId());
                            }
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("skipping unusable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
                    }
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("results follower woken up while running", e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("results follower stopped; waiting connections will time out", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void assign() throws InterruptedException {
        long backoff = 200;
        while (running) {
            try {
                List<TopicPartition> partitions = Partitions.of(consumer,
                        List.of(catalog.results().name(), catalog.events().name()), Duration.ofSeconds(10));
                consumer.assign(partitions);
                consumer.seekToEnd(partitions);
                // resolve the positions now: what is written after this point is seen
                for (TopicPartition tp : partitions) {
                    consumer.position(tp, Duration.ofSeconds(10));
                }
                assigned = true;
                return;
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                LOG.warn("results follower cannot read its topics yet ({}); retrying", e.toString());
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
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
