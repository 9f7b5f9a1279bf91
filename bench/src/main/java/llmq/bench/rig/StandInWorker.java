package llmq.bench.rig;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A worker that calls no model: it reads the queues read-committed, as a real worker does, and
 * writes a STARTED event for each request it takes, so the router's released-minus-started count
 * drains. Each level is served at its own fixed rate (unlimited for the levels under test), so a
 * scenario can hold a deep backlog at one level while measuring another without the model, the
 * worker's scheduler or the CPU they need getting in the way.
 */
public final class StandInWorker implements AutoCloseable {

    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    /**
     * @param ratePerLevel requests per second started per level; a level absent or ≤ 0 is started at once
     * @param ours         request ids this worker takes (other runs' records are skipped)
     */
    public StandInWorker(Kafka kafka, TopicCatalog catalog, TopicSerdes serdes, List<Priority> levels,
                         Map<Priority, Double> ratePerLevel, Predicate<String> ours) {
        List<String> topics = new ArrayList<>();
        levels.forEach(l -> topics.add(catalog.queue(l).name()));
        KafkaConsumer<String, byte[]> consumer = kafka.tail(topics);
        KafkaProducer<String, byte[]> producer = kafka.producer();
        var queued = serdes.value(QueuedRequest.class);
        var events = serdes.value(RequestEvent.class).serializer();
        String eventsTopic = catalog.events().name();
        Map<Priority, ArrayDeque<QueuedRequest>> waiting = new EnumMap<>(Priority.class);
        Map<Priority, double[]> tokens = new EnumMap<>(Priority.class);
        this.thread = new Thread(() -> {
            long last = System.nanoTime();
            try (consumer; producer) {
                while (running) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(5))) {
                        if (r.key() == null || !ours.test(r.key())) {
                            continue;
                        }
                        QueuedRequest q = queued.deserialize(r.topic(), r.value());
                        Priority p = q.getPriority();
                        Double rate = ratePerLevel.get(p);
                        if (rate == null || rate <= 0) {
                            start(producer, events, eventsTopic, q);
                        } else {
                            waiting.computeIfAbsent(p, k -> new ArrayDeque<>()).add(q);
                        }
                    }
                    long now = System.nanoTime();
                    double dt = (now - last) / 1e9;
                    last = now;
                    for (Map.Entry<Priority, ArrayDeque<QueuedRequest>> w : waiting.entrySet()) {
                        double rate = ratePerLevel.get(w.getKey());
                        double[] t = tokens.computeIfAbsent(w.getKey(), k -> new double[1]);
                        t[0] = Math.min(t[0] + dt * rate, Math.max(1, rate / 10));
                        while (t[0] >= 1 && !w.getValue().isEmpty()) {
                            start(producer, events, eventsTopic, w.getValue().poll());
                            t[0] -= 1;
                        }
                    }
                }
            } catch (Throwable e) {
                failure = e;
            }
        }, "bench-stand-in-worker");
        thread.setDaemon(true);
        thread.start();
    }

    private static void start(KafkaProducer<String, byte[]> producer,
                              org.apache.kafka.common.serialization.Serializer<RequestEvent> events, String topic,
                              QueuedRequest q) {
        RequestEvent started = RequestEvent.newBuilder().setRequestId(q.getRequest().getId())
                .setTenantId(q.getRequest().getTenantId()).setType(EventType.STARTED).setAt(Instant.now())
                .setPriority(q.getPriority()).setAttempt(q.getAttempt()).setWorkerId("bench-stand-in").build();
        producer.send(new ProducerRecord<>(topic, started.getRequestId(), events.serialize(topic, started)));
    }

    /** Throws if the worker's loop died. */
    public void check() {
        if (failure != null) {
            throw new IllegalStateException("stand-in worker failed: " + failure, failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
