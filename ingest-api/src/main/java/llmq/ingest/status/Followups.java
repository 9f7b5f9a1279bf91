package llmq.ingest.status;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import llmq.avro.CallbackDelivery;
import llmq.avro.LlmResult;
import llmq.ingest.internal.avro.BatchMember;
import llmq.ingest.internal.avro.RequestStatus;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * What follows a change of a request's status or result, in the request's own partition: its entry
 * in the batch index is brought up to date, and once a request with a callback URL has its result a
 * {@link CallbackDelivery} is forwarded (once: remembered in {@value StatusTopology#CALLBACKS_SENT_STORE},
 * whose entries are purged after {@link #SENT_RETENTION}). The same class follows both streams: in
 * result mode the record is the result and the status comes from the status store, and the other way
 * round, so the order in which a request's status and result arrive does not matter.
 */
final class Followups<V> implements Processor<String, V, String, CallbackDelivery> {

    static final Duration SENT_RETENTION = Duration.ofDays(8);

    private final boolean resultMode;
    private ProcessorContext<String, CallbackDelivery> context;
    private KeyValueStore<String, Object> other;
    private KeyValueStore<String, BatchMember> members;
    private KeyValueStore<String, Long> sent;

    Followups(boolean resultMode) {
        this.resultMode = resultMode;
    }

    @Override
    public void init(ProcessorContext<String, CallbackDelivery> context) {
        this.context = context;
        this.other = context.getStateStore(resultMode ? StatusTopology.STATUS_STORE : StatusTopology.RESULTS_STORE);
        this.members = context.getStateStore(StatusTopology.BATCH_MEMBERS_STORE);
        this.sent = context.getStateStore(StatusTopology.CALLBACKS_SENT_STORE);
        if (!resultMode) {
            context.schedule(Duration.ofHours(1), PunctuationType.WALL_CLOCK_TIME, this::purge);
        }
    }

    @Override
    public void process(Record<String, V> record) {
        String id = record.key();
        if (id == null || record.value() == null) {
            return;
        }
        RequestStatus status;
        LlmResult result;
        if (resultMode) {
            result = (LlmResult) record.value();
            status = read(other, id);
        } else {
            status = (RequestStatus) record.value();
            if (status.getBatchId() == null && status.getCallbackUrl() == null) {
                return; // most requests: nothing follows, and no store read
            }
            result = read(other, id);
        }
        if (status == null) {
            return;
        }
        if (status.getBatchId() != null) {
            index(id, status, result);
        }
        if (status.getCallbackUrl() != null && result != null && sent.get(id) == null) {
            long now = context.currentSystemTimeMs();
            sent.put(id, now);
            context.forward(new Record<>(id, CallbackDelivery.newBuilder()
                    .setRequestId(id).setTenantId(status.getTenantId()).setUrl(status.getCallbackUrl())
                    .setBatchId(status.getBatchId()).setCustomId(status.getCustomId())
                    .setOutcome(result).setDueAt(Instant.ofEpochMilli(now)).build(), record.timestamp()));
        }
    }

    private void index(String id, RequestStatus status, LlmResult result) {
        String state = result != null ? StatusFold.of(result.getStatus()) : status.getState();
        boolean done = result != null || StatusFold.DEDUPLICATED.equals(status.getState());
        String key = StatusTopology.memberKey(status.getBatchId(), id);
        BatchMember now = new BatchMember(id, status.getCustomId(), state, done);
        BatchMember before = members.get(key);
        if (before == null || (!before.getDone() && !Objects.equals(before, now))) {
            members.put(key, now);
        }
    }

    private void purge(long now) {
        long oldest = now - SENT_RETENTION.toMillis();
        try (KeyValueIterator<String, Long> it = sent.all()) {
            while (it.hasNext()) {
                KeyValue<String, Long> kv = it.next();
                if (kv.value == null || kv.value < oldest) {
                    sent.delete(kv.key);
                }
            }
        }
    }

    /** A value of a DSL store (which keeps a timestamp beside it) or of a plain one. */
    @SuppressWarnings("unchecked")
    static <T> T read(KeyValueStore<String, Object> store, String key) {
        Object v = store.get(key);
        if (v instanceof ValueAndTimestamp<?> vt) {
            return (T) vt.value();
        }
        return (T) v;
    }
}
