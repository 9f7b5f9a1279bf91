package llmq.billing.prices;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import llmq.avro.ModelPrice;
import llmq.common.db.DbConfig;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.catalog.TopicSpec;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies {@code model_prices} into the compacted {@code llm.config.prices} topic by polling:
 * each changed row is published keyed by its id, each deleted row as a tombstone. An interim
 * feed until change data capture (Debezium) streams the table; the topic contract is the same.
 */
public final class PriceTablePoller implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PriceTablePoller.class);

    private final DbConfig db;
    private final Producer<String, byte[]> producer;
    private final TopicSpec<ModelPrice> topic;
    private final TopicSerdes serdes;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "llmq-price-poller");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, ModelPrice> published = new HashMap<>();

    public PriceTablePoller(DbConfig db, Producer<String, byte[]> producer, TopicSpec<ModelPrice> topic,
                            TopicSerdes serdes) {
        this.db = db;
        this.producer = producer;
        this.topic = topic;
        this.serdes = serdes;
    }

    /** Polls now and then every {@code intervalMs}. */
    public PriceTablePoller start(long intervalMs) {
        timer.scheduleWithFixedDelay(this::pollSafely, 0, intervalMs, TimeUnit.MILLISECONDS);
        return this;
    }

    private void pollSafely() {
        try {
            poll();
        } catch (Exception e) {
            LOG.warn("price table poll failed (retrying): {}", e.toString());
        }
    }

    /** One poll: publishes what changed since the last one and waits for the broker's acknowledgement. */
    public synchronized int poll() throws SQLException, InterruptedException, java.util.concurrent.ExecutionException {
        Map<String, ModelPrice> current = new HashMap<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT id, model, currency, input_per_million, "
                     + "output_per_million, cached_input_per_million, effective_from FROM model_prices");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ModelPrice p = ModelPrice.newBuilder()
                        .setId(rs.getLong(1)).setModel(rs.getString(2)).setCurrency(rs.getString(3))
                        .setInputPerMillion(rs.getBigDecimal(4).setScale(6))
                        .setOutputPerMillion(rs.getBigDecimal(5).setScale(6))
                        .setCachedInputPerMillion(rs.getBigDecimal(6) == null ? null : rs.getBigDecimal(6).setScale(6))
                        .setEffectiveFrom(rs.getTimestamp(7).toInstant())
                        .build();
                current.put(Long.toString(p.getId()), p);
            }
        }
        int changes = 0;
        Set<String> gone = new HashSet<>(published.keySet());
        gone.removeAll(current.keySet());
        for (String id : gone) {
            producer.send(new ProducerRecord<>(topic.name(), id, null)).get();
            published.remove(id);
            changes++;
        }
        for (Map.Entry<String, ModelPrice> e : current.entrySet()) {
            if (!e.getValue().equals(published.get(e.getKey()))) {
                producer.send(new ProducerRecord<>(topic.name(), e.getKey(),
                        serdes.value(topic).serialize(topic.name(), e.getValue()))).get();
                published.put(e.getKey(), e.getValue());
                changes++;
            }
        }
        if (changes > 0) {
            LOG.info("published {} price change(s) to {}", changes, topic.name());
        }
        return changes;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
