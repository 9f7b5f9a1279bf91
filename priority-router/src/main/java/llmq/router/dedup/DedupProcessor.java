package llmq.router.dedup;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.router.internal.avro.DedupEntry;
import llmq.router.topology.RouterTopology;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits each dedup key once per window and releases admitted requests to their level's queue.
 *
 * <p>A record whose dedup key was admitted within the window becomes a {@code DEDUPLICATED}
 * event pointing at the original request (its submitter follows the original); the same request
 * id arriving again (a producer retry or a replay) is dropped silently. A record that is not a
 * valid request goes to the dead-letter topic. Expired keys are purged by a wall-clock
 * punctuator.
 */
public final class DedupProcessor implements Processor<String, LlmRequest, String, SpecificRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(DedupProcessor.class);

    private final Duration window;
    private final Duration purgeInterval;
    private final Map<String, Priority> levelByTopic;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, DedupEntry> store;

    public DedupProcessor(Duration window, Duration purgeInterval, Map<String, Priority> levelByTopic) {
        this.window = window;
        this.purgeInterval = purgeInterval;
        this.levelByTopic = levelByTopic;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.store = context.getStateStore(RouterTopology.DEDUP_STORE);
        context.schedule(purgeInterval, PunctuationType.WALL_CLOCK_TIME, this::purge);
    }

    /** The dedup key of a request: tenant and idempotency key when given, else the request id. */
    public static String dedupKey(LlmRequest r) {
        String idem = r.getIdempotencyKey();
        return idem == null || idem.isBlank() ? r.getId() : r.getTenantId() + ":" + idem;
    }

    @Override
    public void process(Record<String, LlmRequest> record) {
        LlmRequest req = record.value();
        if (req == null) {
            return;
        }
        String problem = problem(req);
        if (problem != null) {
            deadLetter(record, req, problem);
            return;
        }
        long now = context.currentSystemTimeMs();
        String key = record.key() != null ? record.key() : dedupKey(req);
        DedupEntry seen = store.get(key);
        if (seen != null && now - seen.getFirstSeen().toEpochMilli() < window.toMillis()) {
            if (!seen.getRequestId().equals(req.getId())) {
                event(req, EventType.DEDUPLICATED, now, null, seen.getRequestId());
            } else {
                LOG.debug("request {} seen again (retry or replay); already admitted", req.getId());
            }
            return;
        }
        store.put(key, new DedupEntry(req.getId(), Instant.ofEpochMilli(now)));
        Priority level = level(req);
        QueuedRequest q = QueuedRequest.newBuilder()
                .setRequest(req)
                .setPriority(level)
                .setOriginalPriority(level)
                .setDedupKey(key)
                .setAttempt(1)
                .setAcceptedAt(Instant.ofEpochMilli(record.timestamp()))
                .setReleasedAt(Instant.ofEpochMilli(now))
                .build();
        context.forward(new Record<String, SpecificRecord>(req.getId(), q, now), RouterTopology.QUEUE_SINK);
        event(req, EventType.RELEASED, now, level, null);
    }

    private Priority level(LlmRequest req) {
        Priority fromTopic = context.recordMetadata().map(RecordMetadata::topic).map(levelByTopic::get).orElse(null);
        if (fromTopic != null) {
            return fromTopic;
        }
        return req.getPriority() != null ? req.getPriority() : Priority.NORMAL;
    }

    private void event(LlmRequest req, EventType type, long now, Priority level, String related) {
        RequestEvent e = RequestEvent.newBuilder()
                .setRequestId(req.getId())
                .setTenantId(req.getTenantId())
                .setType(type)
                .setAt(Instant.ofEpochMilli(now))
                .setPriority(level)
                .setRelatedRequestId(related)
                .build();
        context.forward(new Record<String, SpecificRecord>(req.getId(), e, now), RouterTopology.EVENTS_SINK);
    }

    private static String problem(LlmRequest r) {
        if (r.getId() == null || r.getId().isBlank()) {
            return "missing id";
        }
        if (r.getTenantId() == null || r.getTenantId().isBlank()) {
            return "missing tenant_id";
        }
        if (r.getModel() == null || r.getModel().isBlank()) {
            return "missing model";
        }
        if (r.getMessages() == null || r.getMessages().isEmpty()) {
            return "missing messages";
        }
        return null;
    }

    private void deadLetter(Record<String, LlmRequest> record, LlmRequest req, String problem) {
        RecordMetadata md = context.recordMetadata().orElse(null);
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(req.getId())
                .setTenantId(req.getTenantId())
                .setStage("router")
                .setSourceTopic(md == null ? "unknown" : md.topic())
                .setSourcePartition(md == null ? -1 : md.partition())
                .setSourceOffset(md == null ? -1 : md.offset())
                .setRequest(req)
                .setErrorClass("invalid_request")
                .setErrorMessage(problem)
                .setAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        LOG.warn("dead-lettering invalid request {} from {}: {}", req.getId(), md, problem);
        context.forward(new Record<String, SpecificRecord>(req.getId(), dl, record.timestamp()), RouterTopology.DLQ_SINK);
    }

    private void purge(long now) {
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, DedupEntry> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, DedupEntry> kv = it.next();
                if (now - kv.value.getFirstSeen().toEpochMilli() >= window.toMillis()) {
                    expired.add(kv.key);
                }
            }
        }
        expired.forEach(store::delete);
    }
}
