package llmq.ingest.callbacks;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import llmq.avro.CallbackDelivery;
import llmq.avro.DeadLetter;
import llmq.common.json.Json;
import llmq.ingest.api.RequestView;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers completion callbacks: a consumer of {@code llm.callbacks} in its own group
 * ({@code ingest.callbacks.group-id}), so deliveries never hold up the pipeline and the instances
 * share the work. Each record is POSTed (JSON, the request's view with its result) to its URL,
 * signed by {@link CallbackSigner}; a 2xx ends it. A connection failure, 408, 425, 429 or 5xx is
 * retried with exponential backoff (doubling from {@code initial-backoff}, at most
 * {@code max-backoff}, ±20 % jitter, at most {@code max-attempts} attempts); another 4xx or the last
 * failure gives up: the delivery is dead-lettered to {@code llm.dlq} (stage {@code ingest-callback})
 * and counted. Offsets are committed only up to the first delivery not yet finished, so a crash
 * re-delivers (at least once: receivers dedupe by {@code X-LLMQ-Request-Id}). At most
 * {@code max-in-flight} deliveries are pending; beyond that the partitions pause.
 */
public final class CallbackDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CallbackDispatcher.class);

    /** Settings of the dispatcher. */
    public record Settings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration timeout, int maxInFlight) {
    }

    private final Consumer<String, byte[]> consumer;
    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final CallbackSigner signer;
    private final Settings settings;
    private final HttpClient http;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "llmq-ingest-callback-timer");
        t.setDaemon(true);
        return t;
    });
    /** Per assigned partition: offset → finished. */
    private final Map<TopicPartition, ConcurrentSkipListMap<Long, Boolean>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter delivered;
    private final Counter retried;
    private final Counter failed;
    private final Thread thread;
    private volatile boolean running = true;

    public CallbackDispatcher(Consumer<String, byte[]> consumer, Producer<String, byte[]> producer, TopicCatalog catalog,
                              TopicSerdes serdes, CallbackSigner signer, Settings settings, MeterRegistry metrics) {
        this.consumer = consumer;
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.signer = signer;
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.delivered = Counter.builder("llmq_ingest_callbacks_delivered").description("callbacks answered 2xx").register(metrics);
        this.retried = Counter.builder("llmq_ingest_callbacks_retried").description("callback attempts to be retried").register(metrics);
        this.failed = Counter.builder("llmq_ingest_callbacks_failed").description("callbacks given up and dead-lettered").register(metrics);
        metrics.gauge("llmq_ingest_callbacks_in_flight", inFlight);
        this.thread = new Thread(this::run, "llmq-ingest-callbacks");
        this.thread.setDaemon(true);
    }

    public CallbackDispatcher start() {
        thread.start();
        return this;
    }

    private void run() {
        try {
            consumer.subscribe(List.of(catalog.callbacks().name()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    commit(true);
                    partitions.forEach(pending::remove);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    partitions.forEach(tp -> pending.put(tp, new ConcurrentSkipListMap<>()));
                }
            });
            long lastCommit = 0;
            boolean paused = false;
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    accept(r);
                }
                boolean full = inFlight.get() >= settings.maxInFlight();
                if (full && !paused) {
                    consumer.pause(consumer.assignment());
                    paused = true;
                } else if (!full && paused) {
                    consumer.resume(consumer.assignment());
                    paused = false;
                }
                if (System.currentTimeMillis() - lastCommit >= 500) {
                    commit(false);
                    lastCommit = System.currentTimeMillis();
                }
            }
            commit(true);
        } catch (WakeupException e) {
            if (running) {
                LOG.error("callback dispatcher woken up while running", e);
            }
        } catch (RuntimeException e) {
            LOG.error("callback dispatcher stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void accept(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        ConcurrentSkipListMap<Long, Boolean> marks = pending.computeIfAbsent(tp, k -> new ConcurrentSkipListMap<>());
        CallbackDelivery d;
        try {
            d = r.value() == null ? null : serdes.value(CallbackDelivery.class).deserialize(r.topic(), r.value());
        } catch (RuntimeException e) {
            LOG.error("skipping undecodable callback {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
            d = null;
        }
        if (d == null) {
            marks.put(r.offset(), true);
            return;
        }
        marks.put(r.offset(), false);
        inFlight.incrementAndGet();
        attempt(d, body(d), 1, () -> {
            marks.replace(r.offset(), true);
            inFlight.decrementAndGet();
        });
    }

    /** The JSON a callback carries: the request's view, as {@code GET /v1/requests/{id}} shows it once finished. */
    static byte[] body(CallbackDelivery d) {
        RequestView v = RequestView.of(d.getRequestId(), null, d.getOutcome(), null).withBatch(d.getBatchId(), d.getCustomId());
        try {
            return Json.mapper().writeValueAsBytes(v);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void attempt(CallbackDelivery d, byte[] body, int attempt, Runnable finished) {
        if (!running) {
            return; // not committed: delivered again after the restart
        }
        HttpRequest request;
        try {
            long now = Instant.now().getEpochSecond();
            request = HttpRequest.newBuilder(URI.create(d.getUrl())).timeout(settings.timeout())
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "llmq-callbacks/1")
                    .header("X-LLMQ-Request-Id", d.getRequestId())
                    .header("X-LLMQ-Delivery-Attempt", Integer.toString(attempt))
                    .header(CallbackSigner.HEADER, signer.sign(d.getTenantId(), now, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        } catch (RuntimeException e) {
            giveUp(d, attempt, "invalid callback URL: " + e.getMessage(), finished);
            return;
        }
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            if (error == null && response.statusCode() / 100 == 2) {
                delivered.increment();
                finished.run();
                return;
            }
            String why = error != null ? error.toString() : "HTTP " + response.statusCode();
            boolean retryable = error != null || retryable(response.statusCode());
            if (!retryable || attempt >= settings.maxAttempts()) {
                giveUp(d, attempt, why, finished);
                return;
            }
            retried.increment();
            long delay = backoff(attempt, error == null ? response.headers().firstValue("Retry-After").orElse(null) : null);
            LOG.debug("callback of {} to {} failed ({}); attempt {} in {} ms", d.getRequestId(), d.getUrl(), why,
                    attempt + 1, delay);
            timer.schedule(() -> attempt(d, body, attempt + 1, finished), delay, TimeUnit.MILLISECONDS);
        });
    }

    static boolean retryable(int status) {
        return status == 408 || status == 425 || status == 429 || status >= 500;
    }

    /** Milliseconds before attempt {@code attempt + 1}: doubling with jitter, or the receiver's Retry-After, capped. */
    long backoff(int attempt, String retryAfter) {
        long max = settings.maxBackoff().toMillis();
        if (retryAfter != null) {
            try {
                return Math.min(max, Math.max(0, Long.parseLong(retryAfter.trim()) * 1000));
            } catch (NumberFormatException ignored) {
                // an HTTP date: use our own backoff
            }
        }
        double base = settings.initialBackoff().toMillis() * Math.pow(2, attempt - 1);
        double jittered = base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble());
        return (long) Math.min(max, jittered);
    }

    private void giveUp(CallbackDelivery d, int attempts, String why, Runnable finished) {
        failed.increment();
        LOG.warn("callback of request {} to {} given up after {} attempt(s): {}", d.getRequestId(), d.getUrl(), attempts, why);
        DeadLetter dl = DeadLetter.newBuilder().setRequestId(d.getRequestId()).setTenantId(d.getTenantId())
                .setStage("ingest-callback").setSourceTopic(catalog.callbacks().name()).setSourcePartition(-1)
                .setSourceOffset(-1).setErrorClass("callback_failed")
                .setErrorMessage("POST " + d.getUrl() + " failed after " + attempts + " attempt(s): " + why)
                .setAttempts(attempts).setAt(Instant.now()).build();
        try {
            producer.send(new ProducerRecord<>(catalog.dlq().name(), d.getRequestId(),
                    serdes.value(DeadLetter.class).serialize(catalog.dlq().name(), dl)), (md, e) -> {
                        if (e != null) {
                            LOG.error("dead letter of callback {} not written: {}", d.getRequestId(), e.toString());
                        }
                        finished.run();
                    });
        } catch (RuntimeException e) {
            LOG.error("dead letter of callback {} not written: {}", d.getRequestId(), e.toString());
            finished.run();
        }
    }

    /** Commits, per partition, up to the first delivery not finished. */
    private void commit(boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        pending.forEach((tp, marks) -> {
            Long next = null;
            while (!marks.isEmpty()) {
                Map.Entry<Long, Boolean> first = marks.firstEntry();
                if (!first.getValue()) {
                    break;
                }
                next = first.getKey() + 1;
                marks.pollFirstEntry();
            }
            if (next != null) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        });
        if (offsets.isEmpty()) {
            return;
        }
        try {
            if (sync) {
                consumer.commitSync(offsets, Duration.ofSeconds(5));
            } else {
                consumer.commitAsync(offsets, (o, e) -> {
                    if (e != null) {
                        LOG.warn("callback offsets not committed: {}", e.toString());
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("callback offsets not committed: {}", e.toString());
        }
    }

    /** Deliveries started and not finished. */
    public int inFlight() {
        return inFlight.get();
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
        timer.shutdownNow();
    }
}
