package llmq.router.classify;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import llmq.avro.DeadLetter;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.avro.Tenant;
import llmq.router.RouterConfig.ClassifyRules;
import llmq.router.topology.Routed;
import llmq.router.view.RouterMetrics;
import llmq.schemas.serde.AvroSerde;
import llmq.schemas.serde.WireFormat;
import llmq.schemas.validation.RequestValidation;
import llmq.topics.streams.DeadLetterDeserializationHandler;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns records of the public {@code llm.requests} topic into classified intake requests: decodes
 * Avro (Confluent wire format, magic byte 0) or JSON (first non-blank byte {@code '{'}),
 * validates, looks the tenant up in the tenant table and picks the level with {@link Classifier}.
 * A record that is not a valid request — oversized, neither Avro nor JSON, an unknown schema id,
 * missing model or messages, an unknown tenant — becomes a dead letter with the reason; the app
 * carries on with the next record. Only an unreachable schema registry fails the thread (the
 * record is not at fault; it is retried).
 */
public final class ClassifyProcessor implements Processor<String, byte[], String, Routed> {

    private static final Logger LOG = LoggerFactory.getLogger(ClassifyProcessor.class);
    /** Raw bytes kept in a dead letter at most (the rest is dropped: the DLQ must stay writable). */
    static final int MAX_DEAD_LETTER_PAYLOAD = 64 * 1024;

    private final ClassifyRules rules;
    private final Classifier classifier;
    private final AvroSerde<LlmRequest> avro;
    private final String tenantsStore;
    private final RouterMetrics metrics;
    private ProcessorContext<String, Routed> context;
    private ReadOnlyKeyValueStore<String, Tenant> tenants;

    public ClassifyProcessor(ClassifyRules rules, AvroSerde<LlmRequest> avro, String tenantsStore, RouterMetrics metrics) {
        this.rules = rules;
        this.classifier = new Classifier(rules);
        this.avro = avro;
        this.tenantsStore = tenantsStore;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Routed> context) {
        this.context = context;
        this.tenants = context.getStateStore(tenantsStore);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        byte[] value = record.value();
        if (value == null) {
            return;
        }
        RecordMetadata md = context.recordMetadata().orElseThrow();
        if (value.length > rules.maxBytes()) {
            dead(record, md, null, "oversized", value.length + " bytes is more than the " + rules.maxBytes() + "-byte limit");
            return;
        }
        LlmRequest r;
        try {
            if (value.length > 0 && value[0] == WireFormat.MAGIC) {
                r = avro.deserialize(md.topic(), value);
            } else if (JsonRequestDecoder.looksLikeJson(value)) {
                r = JsonRequestDecoder.decode(value, md.topic(), md.partition(), md.offset(), record.timestamp());
            } else {
                dead(record, md, null, "undecodable", "neither Avro in the Confluent wire format (magic byte 0) nor a JSON object");
                return;
            }
        } catch (JsonRequestDecoder.BadJson e) {
            dead(record, md, null, "invalid_request", e.getMessage());
            return;
        } catch (RuntimeException e) {
            if (DeadLetterDeserializationHandler.isRegistryOutage(e)) {
                throw e;
            }
            String reason = String.valueOf(e.getMessage());
            dead(record, md, null, reason.contains("unknown schema id") ? "unknown_schema" : "undecodable", reason);
            return;
        }
        List<RequestValidation.Problem> problems = RequestValidation.problems(r, RequestValidation.Limits.defaults());
        if (!problems.isEmpty()) {
            dead(record, md, r, "invalid_request", problems.toString());
            return;
        }
        Tenant tenant = tenants.get(r.getTenantId());
        if (tenant == null && rules.requireKnownTenant()) {
            dead(record, md, r, "unknown_tenant", "tenant '" + r.getTenantId() + "' is not in llm.config.tenants");
            return;
        }
        Priority level = classifier.classify(r, tenant);
        r.setPriority(level);
        metrics.classified(level);
        long now = context.currentSystemTimeMs();
        String dedupKey = r.getIdempotencyKey() == null || r.getIdempotencyKey().isBlank()
                ? r.getId() : r.getTenantId() + ":" + r.getIdempotencyKey();
        context.forward(new Record<String, Routed>(dedupKey, new Routed.Intake(r, level), record.timestamp()));
        RequestEvent accepted = RequestEvent.newBuilder().setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setType(EventType.ACCEPTED).setAt(Instant.ofEpochMilli(now)).setPriority(level).build();
        context.forward(new Record<String, Routed>(r.getId(), new Routed.Event(accepted), record.timestamp()));
    }

    private void dead(Record<String, byte[]> record, RecordMetadata md, LlmRequest r, String errorClass, String message) {
        byte[] payload = record.value().length > MAX_DEAD_LETTER_PAYLOAD
                ? Arrays.copyOf(record.value(), MAX_DEAD_LETTER_PAYLOAD) : record.value();
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(r != null ? r.getId() : record.key())
                .setTenantId(r != null ? r.getTenantId() : null)
                .setStage("classifier")
                .setSourceTopic(md.topic()).setSourcePartition(md.partition()).setSourceOffset(md.offset())
                .setRequest(r)
                .setPayload(r != null ? null : ByteBuffer.wrap(payload))
                .setErrorClass(errorClass).setErrorMessage(message)
                .setAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        LOG.warn("dead-lettering {}-{}@{} ({}): {}", md.topic(), md.partition(), md.offset(), errorClass, message);
        metrics.deadLettered("classifier", errorClass);
        context.forward(new Record<String, Routed>(dl.getRequestId(), new Routed.Dead(dl), record.timestamp()));
    }
}
