package llmq.worker.outcome;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import llmq.avro.DeadLetter;
import llmq.avro.ErrorInfo;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.ResultStatus;
import llmq.avro.Usage;
import llmq.avro.UsageEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.catalog.TopicSpec;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCallException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Publishes what the worker learns about a request: lifecycle events on {@code llm.events},
 * the final {@code llm.results} record, {@code llm.usage} for billing, and dead letters. The
 * records of one outcome go into the open {@link OutcomeTransaction} together, and only while
 * the queue record they are for is still this worker's. Every method returns a future that
 * completes when Kafka has acknowledged all of the outcome's records, so that the consumer can
 * commit the source offset in the same transaction; it fails with {@link StaleOutcome} when
 * nothing was written because the record is no longer this worker's.
 */
public final class Outcomes {

    /** The queue record an outcome is for. */
    public interface Source {
        TopicPartition tp();

        /** The number of the assignment the record was taken in. */
        long assignment();

        long offset();

        static Source of(TopicPartition tp, long assignment, long offset) {
            record Taken(TopicPartition tp, long assignment, long offset) implements Source {
            }
            return new Taken(tp, assignment, offset);
        }
    }

    private final OutcomeTransaction transaction;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final String workerId;

    public Outcomes(OutcomeTransaction transaction, TopicCatalog catalog, TopicSerdes serdes, String workerId) {
        this.transaction = transaction;
        this.catalog = catalog;
        this.serdes = serdes;
        this.workerId = workerId;
    }

    /** The request was taken by this worker; {@code endpoint} is where its call goes, null when none is called. */
    public CompletableFuture<Void> started(Source source, QueuedRequest q, Instant at, String endpoint) {
        return send(source, false, record(catalog.events(), q.getRequest().getId(),
                event(q, EventType.STARTED, at).setEndpoint(endpoint).build()));
    }

    /**
     * A retryable failure: a RETRY_SCHEDULED event for the attempt that failed, with the earliest
     * time of the next attempt. The router re-parks the request and releases it again with the
     * next attempt number; nothing else is written.
     */
    public CompletableFuture<Void> retryScheduled(Source source, QueuedRequest q, ModelCallException e,
                                                  Instant notBefore, Instant at) {
        return send(source, true, record(catalog.events(), q.getRequest().getId(), event(q, EventType.RETRY_SCHEDULED, at)
                .setNotBefore(notBefore)
                .setEndpoint(e.endpoint())
                .setReason(e.type() + ": " + e.getMessage())
                .build()));
    }

    /** The request's deadline passed before its call started: an EXPIRED event and result; the model is not called. */
    public CompletableFuture<Void> expired(Source source, QueuedRequest q, Instant startedAt, Instant at) {
        LlmRequest r = q.getRequest();
        String message = "deadline " + r.getDeadline() + " passed before the call could start";
        LlmResult result = LlmResult.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setStatus(ResultStatus.EXPIRED)
                .setModel(r.getModel())
                .setError(new ErrorInfo("expired", message, null, false))
                .setAttempts(q.getAttempt() - 1)
                .setPriority(q.getPriority())
                .setSubmittedAt(r.getSubmittedAt()).setStartedAt(startedAt).setCompletedAt(at)
                .build();
        return send(source, true, record(catalog.results(), r.getId(), result),
                record(catalog.events(), r.getId(), event(q, EventType.EXPIRED, at).setReason("expired: " + message).build()));
    }

    /** The model answered: result, usage and a COMPLETED event carrying the real usage. */
    public CompletableFuture<Void> completed(Source source, QueuedRequest q, Completion c, Instant startedAt, Instant at) {
        LlmRequest r = q.getRequest();
        Usage usage = new Usage(c.promptTokens(), c.completionTokens(), c.cachedTokens(), c.estimated());
        LlmResult result = LlmResult.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setStatus(ResultStatus.COMPLETED)
                .setModel(r.getModel()).setServedModel(c.servedModel())
                .setOutput(c.content()).setFinishReason(c.finishReason())
                .setUsage(usage)
                .setAttempts(q.getAttempt())
                .setEndpoint(c.endpoint())
                .setPriority(q.getPriority())
                .setSubmittedAt(r.getSubmittedAt()).setStartedAt(startedAt).setCompletedAt(at)
                .build();
        UsageEvent ue = UsageEvent.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setModel(r.getModel()).setEndpoint(c.endpoint())
                .setPromptTokens(c.promptTokens()).setCompletionTokens(c.completionTokens())
                .setCachedPromptTokens(c.cachedTokens()).setEstimated(c.estimated())
                .setLatencyMs(c.latencyMs()).setAttempt(q.getAttempt()).setPriority(q.getPriority())
                .setAt(at)
                .build();
        RequestEvent done = event(q, EventType.COMPLETED, at).setEndpoint(c.endpoint()).setUsage(usage).build();
        return send(source, true, record(catalog.results(), r.getId(), result),
                record(catalog.usage(), r.getTenantId(), ue),
                record(catalog.events(), r.getId(), done));
    }

    /**
     * The call failed for good: a FAILED result and event, and a dead letter with the reason.
     *
     * @param why why it is final (e.g. "no retries left"), appended to the reason; may be null
     */
    public CompletableFuture<Void> failed(Source source, QueuedRequest q, ModelCallException e, String why,
                                          Instant startedAt, Instant at) {
        LlmRequest r = q.getRequest();
        String message = String.valueOf(e.getMessage()) + (why == null ? "" : " (" + why + ")");
        ErrorInfo error = new ErrorInfo(e.type(), message, e.httpStatus(), e.retryable());
        LlmResult result = LlmResult.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setStatus(ResultStatus.FAILED)
                .setModel(r.getModel())
                .setError(error)
                .setAttempts(q.getAttempt())
                .setEndpoint(e.endpoint())
                .setPriority(q.getPriority())
                .setSubmittedAt(r.getSubmittedAt()).setStartedAt(startedAt).setCompletedAt(at)
                .build();
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId())
                .setStage("worker")
                .setSourceTopic(source.tp().topic()).setSourcePartition(source.tp().partition())
                .setSourceOffset(source.offset())
                .setRequest(r)
                .setErrorClass(e.type()).setErrorMessage(message)
                .setAttempts(q.getAttempt()).setLastEndpoint(e.endpoint())
                .setPriority(q.getPriority())
                .setAt(at)
                .build();
        return send(source, true, record(catalog.dlq(), r.getId(), dl),
                record(catalog.results(), r.getId(), result),
                record(catalog.events(), r.getId(), event(q, EventType.FAILED, at).setEndpoint(e.endpoint())
                        .setReason(e.type() + ": " + message).build()),
                record(catalog.events(), r.getId(), event(q, EventType.DEAD_LETTERED, at).setReason(e.type()).build()));
    }

    /** A queue record that is not a valid {@code QueuedRequest}: dead-lettered with its raw bytes. */
    public CompletableFuture<Void> undecodable(Source source, String key, byte[] value, Exception error, Instant at) {
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(key)
                .setStage("worker")
                .setSourceTopic(source.tp().topic()).setSourcePartition(source.tp().partition())
                .setSourceOffset(source.offset())
                .setPayload(value == null ? null : ByteBuffer.wrap(value))
                .setErrorClass("undecodable").setErrorMessage(String.valueOf(error.getMessage()))
                .setAt(at)
                .build();
        return send(source, true, record(catalog.dlq(), key, dl));
    }

    private RequestEvent.Builder event(QueuedRequest q, EventType type, Instant at) {
        return RequestEvent.newBuilder()
                .setRequestId(q.getRequest().getId())
                .setTenantId(q.getRequest().getTenantId())
                .setType(type)
                .setAt(at)
                .setPriority(q.getPriority())
                .setAttempt(q.getAttempt())
                .setWorkerId(workerId);
    }

    /**
     * Writes {@code records}; {@code finishes} when they are the record's final outcome, so that the
     * transaction that carries them also commits the record's offset (OutcomeTransaction#send).
     */
    @SafeVarargs
    private CompletableFuture<Void> send(Source source, boolean finishes, Supplier<ProducerRecord<String, byte[]>>... records) {
        List<ProducerRecord<String, byte[]>> encoded = new ArrayList<>(records.length);
        try {
            for (Supplier<ProducerRecord<String, byte[]>> r : records) {
                encoded.add(r.get());
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return transaction.send(source, finishes, encoded);
    }

    /** A record encoded when the outcome is sent, so a serialisation failure fails the outcome and writes nothing. */
    private <V extends SpecificRecord> Supplier<ProducerRecord<String, byte[]>> record(TopicSpec<V> topic, String key,
                                                                                       V value) {
        return () -> new ProducerRecord<>(topic.name(), key, serdes.value(topic).serialize(topic.name(), value));
    }
}
