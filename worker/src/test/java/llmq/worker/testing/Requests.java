package llmq.worker.testing;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestParams;

/** Builds queued requests for tests. */
public final class Requests {

    private Requests() {
    }

    /** A first-attempt request of {@code tenant} at {@code level}, released at {@code at}. */
    public static QueuedRequest queued(String tenant, Priority level, String prompt, Instant at) {
        LlmRequest r = LlmRequest.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setTenantId(tenant)
                .setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", prompt, null)))
                .setParams(RequestParams.newBuilder().build())
                .setPriority(level)
                .setSubmittedAt(at)
                .build();
        return QueuedRequest.newBuilder()
                .setRequest(r).setPriority(level).setOriginalPriority(level)
                .setDedupKey(r.getId()).setAttempt(1)
                .setAcceptedAt(at).setReleasedAt(at)
                .build();
    }

    /** A copy of {@code q} as the router would release its next attempt. */
    public static QueuedRequest nextAttempt(QueuedRequest q, Instant releasedAt) {
        return QueuedRequest.newBuilder(q).setAttempt(q.getAttempt() + 1).setReleasedAt(releasedAt).build();
    }
}
