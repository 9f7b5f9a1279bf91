package llmq.worker.outcome;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
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
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes what the worker learns about a request: lifecycle events on {@code llm.events},
 * the final {@code llm.results} record, {@code llm.usage} for billing, and dead letters. Every
 * method returns a future that completes only when Kafka has acknowledged all of its records,
 * so the caller commits the source offset only after the outcome is durable.
 */
public final class Outcomes {

    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final String workerId;

    public Outcomes(Producer<String, byte[]> producer, TopicCatalog catalog, TopicSerdes serdes, String workerId) {
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.workerId = workerId;
    }

    /** The request was taken by this worker. */
    public CompletableFuture<Void> started(QueuedRequest q, Instant at) {
        return send(catalog.events(), q.getRequest().getId(), event(q, EventType.STARTED, at).build());
    }

    /** The model answered: result, usage and a COMPLETED event carrying the real usage. */
    public CompletableFuture<Void> completed(QueuedRequest q, Completion c, Instant startedAt, Instant at) {
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
        return CompletableFuture.allOf(
                send(catalog.results(), r.getId(), result),
                send(catalog.usage(), r.getTenantId(), ue),
                send(catalog.events(), r.getId(), done));
    }

    /** The call failed for good: a FAILED result and event, and a dead letter with the reason. */
    public CompletableFuture<Void> failed(QueuedRequest q, ModelCallException e, Instant startedAt, Instant at,
                                          String sourceTopic, int partition, long offset) {
        LlmRequest r = q.getRequest();
        ErrorInfo error = new ErrorInfo(e.type(), String.valueOf(e.getMessage()), e.httpStatus(), e.retryable());
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
                .setSourceTopic(sourceTopic).setSourcePartition(partition).setSourceOffset(offset)
                .setRequest(r)
                .setErrorClass(e.type()).setErrorMessage(String.valueOf(e.getMessage()))
                .setAttempts(q.getAttempt()).setLastEndpoint(e.endpoint())
                .setPriority(q.getPriority())
                .setAt(at)
                .build();
        return CompletableFuture.allOf(
                send(catalog.dlq(), r.getId(), dl),
                send(catalog.results(), r.getId(), result),
                send(catalog.events(), r.getId(), event(q, EventType.FAILED, at).setEndpoint(e.endpoint())
                        .setReason(e.type() + ": " + e.getMessage()).build()),
                send(catalog.events(), r.getId(), event(q, EventType.DEAD_LETTERED, at).setReason(e.type()).build()));
    }

    /** A queue record that is not a valid {@code QueuedRequest}: dead-lettered with its raw bytes. */
    public CompletableFuture<Void> undecodable(String key, byte[] value, String topic, int partition, long offset,
                                               Exception error, Instant at) {
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(key)
                .setStage("worker")
                .setSourceTopic(topic).setSourcePartition(partition).setSourceOffset(offset)
                .setPayload(value == null ? null : ByteBuffer.wrap(value))
                .setErrorClass("undecodable").setErrorMessage(String.valueOf(error.getMessage()))
                .setAt(at)
                .build();
        return send(catalog.dlq(), key, dl);
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

    private <V extends SpecificRecord> CompletableFuture<Void> send(TopicSpec<V> topic, String key, V value) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        byte[] bytes;
        try {
            bytes = serdes.value(topic).serialize(topic.name(), value);
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
            return f;
        }
        producer.send(new ProducerRecord<>(topic.name(), key, bytes), (md, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(null);
            }
        });
        return f;
    }
}
