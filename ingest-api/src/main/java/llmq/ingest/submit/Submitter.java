package llmq.ingest.submit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import llmq.avro.ChatMessage;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.avro.RequestParams;
import llmq.ingest.budgets.BudgetGuard;
import llmq.ingest.status.RecentlyAccepted;
import llmq.ingest.tenants.Tenant;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a validated request: picks its level (asked for, else the tenant's default; never
 * above the tenant's maximum), refuses it with 402 if the tenant's monthly budget is exhausted,
 * writes it to {@code llm.requests.<level>} keyed by its dedup key, and completes only once Kafka
 * has acknowledged the write ({@code acks=all}, idempotent producer). Then an {@code ACCEPTED}
 * event follows on {@code llm.events}, carrying what the status view needs (idempotency key,
 * callback URL, batch line id). If Kafka does not acknowledge within the producer's delivery
 * timeout — or the record cannot even be handed to the producer — the future fails with a 503
 * {@link ApiException}: the client retries, nothing is silently dropped, and no ACCEPTED event is
 * written for a request that was not acknowledged.
 */
public final class Submitter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Submitter.class);

    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final RecentlyAccepted recent;
    private final MeterRegistry metrics;
    private final BudgetGuard budgets;
    private final Counter unavailable;
    private final Map<Priority, Timer> ackTimers = new EnumMap<>(Priority.class);
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "llmq-ingest-accepted-events");
        t.setDaemon(true);
        return t;
    });
    /**
     * Completes admissions off the producer's I/O thread: what follows an acknowledgement (the HTTP
     * response, its filters) must not slow down the thread that sends every request.
     */
    private final ExecutorService acks = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(r, "llmq-ingest-acks");
        t.setDaemon(true);
        return t;
    });

    public Submitter(Producer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes,
                     RecentlyAccepted recent, MeterRegistry metrics) {
        this(producer, catalog, serdes, recent, metrics, BudgetGuard.NONE);
    }

    /** As above, refusing tenants whose monthly budget is exhausted (402) before anything is written. */
    public Submitter(Producer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes,
                     RecentlyAccepted recent, MeterRegistry metrics, BudgetGuard budgets) {
        this.budgets = budgets;
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.recent = recent;
        this.metrics = metrics;
        this.unavailable = Counter.builder("llmq_ingest_kafka_unavailable")
                .description("submissions answered 503 because Kafka did not acknowledge in time").register(metrics);
        for (Priority p : Priority.values()) {
            ackTimers.put(p, Timer.builder("llmq_ingest_kafka_ack").tag("priority", TopicCatalog.level(p))
                    .description("send to acknowledgement of an accepted request").register(metrics));
        }
    }

    /** An admitted request: its id, level and admission time. */
    public record Accepted(String id, Priority priority, Instant at, String dedupKey) {
    }

    /** The level a request runs at, or a 403 when the tenant may not use the level it asked for. */
    public static Priority level(Tenant tenant, Priority asked) {
        Priority p = asked != null ? asked : tenant.defaultPriority();
        if (!tenant.allows(p)) {
            throw new ApiException(403, "priority_not_allowed", "priority", "priority '" + TopicCatalog.level(p)
                    + "' is above this tenant's maximum '" + TopicCatalog.level(tenant.maxPriority()) + "'");
        }
        return p;
    }

    /** The dedup key of a tenant's idempotency key: {@code tenant:key}. */
    public static String dedupKey(String tenantId, String idempotencyKey) {
        return tenantId + ":" + idempotencyKey;
    }

    /** Checks level and budget, then writes the request under a new id. */
    public CompletableFuture<Accepted> submit(Tenant tenant, SubmitRequest req, String source) {
        Priority level = level(tenant, req.priority());
        budgets.admit(tenant.id());
        return write(UUID.randomUUID().toString(), tenant, level, req, source);
    }

    /**
     * Writes an admitted request (level and budget already checked) under {@code id}; completes when
     * Kafka has acknowledged it, or fails with a 503.
     */
    public CompletableFuture<Accepted> write(String id, Tenant tenant, Priority level, SubmitRequest req, String source) {
        Instant now = Instant.now();
        LlmRequest r = toAvro(id, tenant.id(), level, req, source, now);
        String dedupKey = r.getIdempotencyKey() == null ? r.getId() : dedupKey(r.getTenantId(), r.getIdempotencyKey());
        String topic = catalog.intake(level).name();
        CompletableFuture<Accepted> done = new CompletableFuture<>();
        Timer.Sample sample = Timer.start(metrics);
        try {
            byte[] value = serdes.value(LlmRequest.class).serialize(topic, r);
            producer.send(new ProducerRecord<>(topic, dedupKey, value), (md, error) -> {
                sample.stop(ackTimers.get(level));
                if (error != null) {
                    acks.execute(() -> done.completeExceptionally(unavailable(r.getId(), error)));
                    return;
                }
                recent.put(r.getId(), tenant.id(), level, now, r.getModel(),
                        r.getIdempotencyKey() == null ? null : dedupKey);
                acks.execute(() -> done.complete(new Accepted(r.getId(), level, now, dedupKey)));
            });
        } catch (RuntimeException e) {
            // the registry or the producer refused before anything was sent (closed, registry down)
            done.completeExceptionally(unavailable(r.getId(), e));
            return done;
        }
        // never send from the callback: it runs on the producer's I/O thread, and a send that needs
        // metadata would block the very thread that fetches it
        done.thenAcceptAsync(a -> send(catalog.events().name(), r.getId(), accepted(r, level, now)), events);
        return done;
    }

    /**
     * Finishes what is in flight, then stops this submitter's threads: the producer's outstanding sends are flushed
     * (their acknowledgements complete admissions on the ack threads, which queue ACCEPTED events), then each pool
     * works off its queue. Ingest calls it when it stops, after its HTTP server, before its producer.
     */
    @Override
    public void close() throws InterruptedException {
        producer.flush();
        acks.shutdown();
        if (!acks.awaitTermination(5, TimeUnit.SECONDS)) {
            LOG.warn("admissions still completing after 5 s; stopping without them");
        }
        events.shutdown();
        if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
            LOG.warn("ACCEPTED events still queued after 5 s; stopping without them (the router's events fill the status in)");
        }
    }

    private ApiException unavailable(String id, Throwable error) {
        if (error instanceof RecordTooLargeException) {
            return new ApiException(413, "request_too_large", "body", "the request is too large for the queue ("
                    + error.getMessage() + ")");
        }
        unavailable.increment();
        LOG.warn("Kafka did not acknowledge request {}: {}", id, error.toString());
        return new ApiException(503, "unavailable", null, "the queue is temporarily unavailable; retry later", 1);
    }

    private void send(String topic, String key, RequestEvent e) {
        try {
            producer.send(new ProducerRecord<>(topic, key, serdes.value(RequestEvent.class).serialize(topic, e)),
                    (md, error) -> {
                        if (error != null) {
                            // the request itself is durable; its status fills in from the router's events
                            LOG.warn("{} event of {} not written: {}", e.getType(), key, error.toString());
                        }
                    });
        } catch (RuntimeException ex) {
            LOG.warn("{} event of {} not written: {}", e.getType(), key, ex.toString());
        }
    }

    /** The ACCEPTED event of a written request. */
    public static RequestEvent accepted(LlmRequest r, Priority level, Instant now) {
        return RequestEvent.newBuilder().setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setType(EventType.ACCEPTED).setAt(now).setPriority(level)
                .setIdempotencyKey(r.getIdempotencyKey()).setCallbackUrl(r.getCallbackUrl())
                .setBatchId(r.getBatchId()).setCustomId(r.getCustomId())
                .build();
    }

    /** The Avro form of a submission. */
    public static LlmRequest toAvro(String id, String tenant, Priority level, SubmitRequest req, String source, Instant now) {
        List<ChatMessage> messages = new ArrayList<>(req.messages().size());
        req.messages().forEach(m -> messages.add(new ChatMessage(m.role(), m.content(), m.name())));
        RequestParams params = RequestParams.newBuilder()
                .setMaxTokens(req.maxTokens()).setTemperature(req.temperature()).setTopP(req.topP())
                .setStop(req.stop()).setSeed(req.seed()).setExtra(req.extra())
                .build();
        return LlmRequest.newBuilder()
                .setId(id).setTenantId(tenant).setModel(req.model()).setMessages(messages).setParams(params)
                .setPriority(level)
                .setIdempotencyKey(req.idempotencyKey()).setConversationId(req.conversationId())
                .setMetadata(req.metadata())
                .setSubmittedAt(now).setNotBefore(req.notBefore()).setDeadline(req.deadline())
                .setCallbackUrl(req.callbackUrl())
                .setSource(source)
                .setCustomId(req.customId())
                .build();
    }
}
