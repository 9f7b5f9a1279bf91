package llmq.router.dedup;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import llmq.router.topology.Routed;
import llmq.router.view.RouterMetrics;
import llmq.schemas.validation.RequestValidation;
import llmq.topics.replay.Replayer;
import org.apache.kafka.common.utils.Bytes;
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
 * Admits each dedup key once per window. A record whose key was admitted within the window
 * becomes a {@code DEDUPLICATED} event pointing at the original request (its submitter follows
 * the original) and never reaches a queue; the same request id arriving again (a producer retry
 * or a replay) is dropped silently, unless it carries the re-run header of a deliberate replay.
 * Admitted requests leave as {@link Routed.Admitted}, to be
 * re-keyed by request id for the scheduler. A record that is not a valid request is
 * dead-lettered.
 *
 * <p>Stores: {@value #STORE} (dedup key → first request id and time) and {@value #EXPIRY_STORE}
 * (time-ordered index of the same keys), so expired keys are purged by a range scan from the
 * last purge point, not a scan of every key.
 */
public final class DedupProcessor implements Processor<String, LlmRequest, String, Routed> {

    public static final String STORE = "router-dedup";
    public static final String EXPIRY_STORE = "router-dedup-expiry";

    private static final Logger LOG = LoggerFactory.getLogger(DedupProcessor.class);

    private final Duration window;
    private final Duration purgeInterval;
    private final Map<String, Priority> levelByTopic;
    private final RouterMetrics metrics;
    private ProcessorContext<String, Routed> context;
    private KeyValueStore<String, DedupEntry> store;
    private KeyValueStore<Bytes, String> expiry;
    private long purgedUpTo;

    public DedupProcessor(Duration window, Duration purgeInterval, Map<String, Priority> levelByTopic,
                          RouterMetrics metrics) {
        this.window = window;
        this.purgeInterval = purgeInterval;
        this.levelByTopic = levelByTopic;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Routed> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        this.expiry = context.getStateStore(EXPIRY_STORE);
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
        List<RequestValidation.Problem> problems = RequestValidation.problems(req, RequestValidation.Limits.defaults());
        if (!problems.isEmpty()) {
            deadLetter(req, problems.toString());
            return;
        }
        long now = context.currentSystemTimeMs();
        String key = record.key() != null ? record.key() : dedupKey(req);
        Priority level = level(req);
        DedupEntry seen = store.get(key);
        // a deliberate re-run (llmq replay --rerun, llmq dlq replay) is admitted again
        boolean rerun = record.headers().lastHeader(Replayer.RERUN_HEADER) != null;
        if (seen != null && !rerun && now - seen.getFirstSeen().toEpochMilli() < window.toMillis()) {
            if (!seen.getRequestId().equals(req.getId())) {
                metrics.dedupHit();
                RequestEvent e = RequestEvent.newBuilder().setRequestId(req.getId()).setTenantId(req.getTenantId())
                        .setType(EventType.DEDUPLICATED).setAt(Instant.ofEpochMilli(now)).setPriority(level)
                        .setRelatedRequestId(seen.getRequestId()).build();
                context.forward(new Record<String, Routed>(req.getId(), new Routed.Event(e), now));
            } else {
                LOG.debug("request {} seen again (retry or replay); already admitted", req.getId());
            }
            return;
        }
        if (seen != null) {
            expiry.delete(expiryKey(seen.getFirstSeen().toEpochMilli(), key));
        }
        store.put(key, new DedupEntry(req.getId(), Instant.ofEpochMilli(now)));
        expiry.put(expiryKey(now, key), key);
        // submitted_at is required by the schema; the record's timestamp is a processing rank (ProcessingRank)
        Instant accepted = req.getSubmittedAt();
        QueuedRequest q = QueuedRequest.newBuilder()
                .setRequest(req).setPriority(level).setOriginalPriority(level).setDedupKey(key).setAttempt(1)
                .setAcceptedAt(accepted).setReleasedAt(Instant.ofEpochMilli(now))
                .build();
        // keyed by its own request id (no idempotency key): already in its request id's partition
        boolean local = record.key() != null && record.key().equals(req.getId());
        context.forward(new Record<String, Routed>(req.getId(), new Routed.Admitted(q, local), now));
    }

    private Priority level(LlmRequest req) {
        if (req.getPriority() != null) {
            return req.getPriority();
        }
        Priority fromTopic = context.recordMetadata().map(RecordMetadata::topic).map(levelByTopic::get).orElse(null);
        return fromTopic != null ? fromTopic : Priority.NORMAL;
    }

    private void deadLetter(LlmRequest req, String problem) {
        RecordMetadata md = context.recordMetadata().orElse(null);
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(req.getId()).setTenantId(req.getTenantId()).setStage("router")
                .setSourceTopic(md == null ? "unknown" : md.topic())
                .setSourcePartition(md == null ? -1 : md.partition())
                .setSourceOffset(md == null ? -1 : md.offset())
                .setRequest(req).setErrorClass("invalid_request").setErrorMessage(problem)
                .setAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        LOG.warn("dead-lettering invalid request {} from {}: {}", req.getId(), md, problem);
        metrics.deadLettered("router", "invalid_request");
        context.forward(new Record<String, Routed>(req.getId(), new Routed.Dead(dl), dl.getAt().toEpochMilli()));
    }

    static Bytes expiryKey(long time, String dedupKey) {
        byte[] k = dedupKey.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(8 + k.length).putLong(time ^ Long.MIN_VALUE).put(k).array());
    }

    private void purge(long now) {
        long upTo = now - window.toMillis();
        if (upTo <= purgedUpTo) {
            return;
        }
        List<KeyValue<Bytes, String>> expired = new ArrayList<>();
        try (KeyValueIterator<Bytes, String> it = expiry.range(expiryKey(purgedUpTo, ""), expiryKey(upTo, ""))) {
            it.forEachRemaining(expired::add);
        }
        for (KeyValue<Bytes, String> kv : expired) {
            expiry.delete(kv.key);
            DedupEntry e = store.get(kv.value);
            if (e != null && now - e.getFirstSeen().toEpochMilli() >= window.toMillis()) {
                store.delete(kv.value);
            }
        }
        purgedUpTo = upTo;
    }
}
