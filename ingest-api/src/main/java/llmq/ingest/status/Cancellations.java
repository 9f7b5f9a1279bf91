package llmq.ingest.status;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.ingest.submit.ApiException;
import llmq.ingest.tenants.Caller;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * {@code DELETE /v1/requests/{id}}: asks the router to cancel a request that has not started, by
 * writing a {@code CANCEL_REQUESTED} event (key: request id) to {@code llm.events}, then waits up
 * to {@code ingest.cancel.wait} for the router's answer in the status view — {@code CANCELLED}, or
 * {@code CANCEL_REJECTED} with its reason. A request that is already running or finished is refused
 * at once, without a command. Without an answer in time the cancel is still pending (the router
 * acts on it when it sees the request).
 */
public final class Cancellations {

    /** How a cancel ended. */
    public enum Result { CANCELLED, REJECTED, PENDING }

    /** The outcome and, when rejected, why. */
    public record Outcome(Result result, String reason) {
    }

    private final StatusService status;
    private final RecentlyAccepted recent;
    private final Producer<String, byte[]> producer;
    private final TopicCatalog catalog;
    private final TopicSerdes serdes;
    private final Duration wait;
    private final Duration kafkaTimeout;

    public Cancellations(StatusService status, RecentlyAccepted recent, Producer<String, byte[]> producer,
                         TopicCatalog catalog, TopicSerdes serdes, Duration wait, Duration kafkaTimeout) {
        this.status = status;
        this.recent = recent;
        this.producer = producer;
        this.catalog = catalog;
        this.serdes = serdes;
        this.wait = wait;
        this.kafkaTimeout = kafkaTimeout;
    }

    public Outcome cancel(Caller caller, String id) {
        Optional<StatusService.Snapshot> found = status.find(caller, id);
        Optional<RecentlyAccepted.Entry> fresh = recent.get(id, Instant.now()).filter(e -> e.tenantId().equals(caller.tenantId()));
        if (found.isEmpty() && fresh.isEmpty()) {
            throw ApiException.notFound("request", id);
        }
        Optional<Outcome> settled = found.flatMap(Cancellations::settled);
        if (settled.isPresent()) {
            return settled.get();
        }
        Priority level = found.map(StatusService.Snapshot::status).map(s -> level(s.getPriority()))
                .orElseGet(() -> fresh.map(RecentlyAccepted.Entry::priority).orElse(null));
        Instant sent = Instant.now();
        RequestEvent command = RequestEvent.newBuilder().setRequestId(id).setTenantId(caller.tenantId())
                .setType(EventType.CANCEL_REQUESTED).setAt(sent).setPriority(level).build();
        String topic = catalog.events().name();
        try {
            producer.send(new ProducerRecord<>(topic, id, serdes.value(RequestEvent.class).serialize(topic, command)))
                    .get(kafkaTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw unavailable();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            Optional<StatusService.Snapshot> now;
            try {
                now = status.find(caller, id);
            } catch (RuntimeException e) {
                continue;
            }
            if (now.isEmpty()) {
                continue;
            }
            Optional<Outcome> answer = settled(now.get());
            if (answer.isPresent()) {
                return answer.get();
            }
            var s = now.get().status();
            if (s != null && s.getCancelRejectedAt() != null && !s.getCancelRejectedAt().isBefore(sent.minusSeconds(1))) {
                return new Outcome(Result.REJECTED, s.getCancelRejectedReason());
            }
        }
        return new Outcome(Result.PENDING, null);
    }

    /** The outcome when the request is already past cancelling (or cancelled). */
    private static Optional<Outcome> settled(StatusService.Snapshot s) {
        String state = s.result() != null ? StatusFold.of(s.result().getStatus())
                : s.status() != null ? s.status().getState() : StatusFold.QUEUED;
        if (StatusFold.CANCELLED.equals(state)) {
            return Optional.of(new Outcome(Result.CANCELLED, null));
        }
        if (StatusFold.isFinal(state)) {
            return Optional.of(new Outcome(Result.REJECTED, "it is already " + state));
        }
        if (StatusFold.RUNNING.equals(state)) {
            return Optional.of(new Outcome(Result.REJECTED, "it has already started"));
        }
        return Optional.empty();
    }

    private static Priority level(String name) {
        if (name == null) {
            return null;
        }
        for (Priority p : Priority.values()) {
            if (TopicCatalog.level(p).equals(name)) {
                return p;
            }
        }
        return null;
    }

    private static ApiException unavailable() {
        return new ApiException(503, "unavailable", null, "the queue is temporarily unavailable; retry later", 1);
    }
}
