package llmq.ingest.submit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a validated request: picks its level (asked for, else the tenant's default; never
 * above the tenant's maximum), refuses it with 402 if the tenant's monthly budget is exhausted, writes it to {@code llm.requests.<level>} keyed by its dedup key,
 * and completes only once Kafka has acknowledged the write ({@code acks=all}, idempotent
 * producer). Then an {@code ACCEPTED} event follows on {@code llm.events}. If Kafka does not
 * acknowledge within the producer's delivery timeout the future fails with a 503
 * {@link ApiException}: the client retries, nothing is silently dropped.
 */
public final class Submitter {

    private static final Logger LOG = LoggerFactory.getLogger(Submitter.class);

    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final RecentlyAccepted recent;
    private final MeterRegistry metrics;
    private final BudgetGuard budgets;
    private final Counter unavailable;
    private final java.util.concurrent.Executor events = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "llmq-ingest-accepted-events");
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
        this.unavailable = Counter.builder("llmq_ingest_kafka_unavailable").register(metrics);
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

    public CompletableFuture<Accepted> submit(Tenant tenant, SubmitRequest req, String source) {
        Priority level = level(tenant, req.priority());
        budgets.admit(tenant.id());
        Instant now = Instant.now();
        LlmRequest r = toAvro(UUID.randomUUID().toString(), tenant.id(), level, req, source, now);
        String dedupKey = r.getIdempotencyKey() == null ? r.getId() : r.getTenantId() + ":" + r.getIdempotencyKey();
        String topic = catalog.intake(level).name();
        byte[] value = serdes.value(LlmRequest.class).serialize(topic, r);
        CompletableFuture<Accepted> done = new CompletableFuture<>();
        Timer.Sample sample = Timer.start(metrics);
        producer.send(new ProducerRecord<>(topic, dedupKey, value), (md, error) -> {
            sample.stop(Timer.builder("llmq_ingest_kafka_ack").tag("priority", TopicCatalog.level(level)).register(metrics));
            if (error != null) {
                unavailable.increment();
                LOG.warn("Kafka did not acknowledge request {}: {}", r.getId(), error.toString());
                done.completeExceptionally(new ApiException(503, "unavailable", null,
                        "the queue is temporarily unavailable; retry later", 1));
                return;
            }
            recent.put(r.getId(), tenant.id(), level, now, r.getModel());
            done.complete(new Accepted(r.getId(), level, now, dedupKey));
        });
        // never send from the callback: it runs on the producer's I/O thread, and a send that needs
        // metadata would block the very thread that fetches it
        done.thenAcceptAsync(a -> accepted(r, level, now), events);
        return done;
    }

    private void accepted(LlmRequest r, Priority level, Instant now) {
        RequestEvent e = RequestEvent.newBuilder().setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setType(EventType.ACCEPTED).setAt(now).setPriority(level).build();
        String topic = catalog.events().name();
        producer.send(new ProducerRecord<>(topic, r.getId(), serdes.value(RequestEvent.class).serialize(topic, e)),
                (md, error) -> {
                    if (error != null) {
                        // the request itself is durable; its status fills in from the router's events
                        LOG.warn("ACCEPTED event of {} not written: {}", r.getId(), error.toString());
                    }
                });
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
                .build();
    }
}
