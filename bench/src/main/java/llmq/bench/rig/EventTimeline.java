package llmq.bench.rig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Each request's lifecycle as llmq itself records it on {@code llm.events} (read-committed, from
 * the moment the timeline starts): the first ACCEPTED, RELEASED, STARTED and COMPLETED time (the
 * events' own {@code at}, epoch ms), the level it was released at and how often it was promoted. No
 * llmq code is instrumented: the scenarios measure what any consumer of the events could.
 */
public final class EventTimeline implements AutoCloseable {

    /** What happened to one request; times are epoch ms, 0 when not (yet) seen. */
    public static final class Times {
        private final String tenant;
        private volatile long accepted;
        private volatile long released;
        private volatile long started;
        private volatile long completed;
        private volatile Priority releasedAt;
        private volatile int promotions;

        Times(String tenant) {
            this.tenant = tenant;
        }

        public String tenant() {
            return tenant;
        }

        public long accepted() {
            return accepted;
        }

        public long released() {
            return released;
        }

        public long started() {
            return started;
        }

        public long completed() {
            return completed;
        }

        public Priority releasedAt() {
            return releasedAt;
        }

        public int promotions() {
            return promotions;
        }
    }

    /** Called for each first STARTED (or other) event, on the timeline's thread. */
    @FunctionalInterface
    public interface Listener {
        void on(RequestEvent event, Times times);
    }

    private final Map<String, Times> byId = new ConcurrentHashMap<>();
    private final Map<EventType, AtomicLong> counts = new ConcurrentHashMap<>();
    private final Predicate<String> ours;
    private final Thread thread;
    private final List<Listener> listeners = new ArrayList<>();
    private volatile boolean running = true;
    private volatile Throwable failure;

    /**
     * Starts following {@code llm.events} from its current end, keeping requests whose id
     * {@code ours} accepts.
     */
    public EventTimeline(Kafka kafka, TopicCatalog catalog, TopicSerdes serdes, Predicate<String> ours,
                         List<Listener> listeners) {
        this.ours = ours;
        this.listeners.addAll(listeners);
        String topic = catalog.events().name();
        KafkaConsumer<String, byte[]> consumer = kafka.tail(List.of(topic));
        var deserializer = serdes.value(RequestEvent.class);
        this.thread = new Thread(() -> {
            try (consumer) {
                while (running) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(20))) {
                        if (r.key() == null || !ours.test(r.key()) || r.value() == null) {
                            continue;
                        }
                        RequestEvent e;
                        try {
                            e = deserializer.deserialize(topic, r.value());
                        } catch (RuntimeException ex) {
                            continue;
                        }
                        apply(e);
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }, "bench-event-timeline");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void apply(RequestEvent e) {
        counts.computeIfAbsent(e.getType(), k -> new AtomicLong()).incrementAndGet();
        Times t = byId.computeIfAbsent(e.getRequestId(), k -> new Times(e.getTenantId()));
        long at = e.getAt().toEpochMilli();
        boolean first = false;
        switch (e.getType()) {
            case ACCEPTED -> {
                if (t.accepted == 0) {
                    t.accepted = at;
                    first = true;
                }
            }
            case RELEASED -> {
                if (t.released == 0) {
                    t.released = at;
                    t.releasedAt = e.getPriority();
                    first = true;
                }
            }
            case STARTED -> {
                if (t.started == 0) {
                    t.started = at;
                    first = true;
                }
            }
            case COMPLETED -> {
                if (t.completed == 0) {
                    t.completed = at;
                    first = true;
                }
            }
            case PROMOTED -> t.promotions++;
            default -> {
                // other events are counted only
            }
        }
        if (first) {
            for (Listener l : listeners) {
                l.on(e, t);
            }
        }
    }

    /** The request's times, or null if no event of it was seen. */
    public Times get(String id) {
        return byId.get(id);
    }

    /** Every request seen so far. */
    public Map<String, Times> all() {
        return Map.copyOf(byId);
    }

    /** Events of {@code type} seen so far (all of them, duplicates included). */
    public long count(EventType type) {
        AtomicLong n = counts.get(type);
        return n == null ? 0 : n.get();
    }

    /** Waits until {@code n} events of {@code type} were seen or {@code timeout} passes; returns the count. */
    public long await(EventType type, long n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count(type) < n && System.nanoTime() < deadline) {
            check();
            Thread.sleep(50);
        }
        return count(type);
    }

    /** Throws if the timeline's consumer died. */
    public void check() {
        if (failure != null) {
            throw new IllegalStateException("event timeline failed: " + failure, failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
