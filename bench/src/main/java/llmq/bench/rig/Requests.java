package llmq.bench.rig;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestParams;

/** Requests as the scenarios send them: straight onto the intake or worker queues, bypassing HTTP. */
public final class Requests {

    /** The simulator's model name. */
    public static final String MODEL = "sim-small";

    private Requests() {
    }

    /** A request as ingest-api would write it to {@code llm.requests.<level>}, submitted at {@code submitted}. */
    public static LlmRequest request(String id, String tenant, Priority level, String prompt, Integer maxTokens,
                                     Instant submitted) {
        return LlmRequest.newBuilder().setId(id).setTenantId(tenant).setModel(MODEL)
                .setMessages(List.of(new ChatMessage("user", prompt, null)))
                .setParams(RequestParams.newBuilder().setMaxTokens(maxTokens).build())
                .setPriority(level).setMetadata(Map.of()).setSubmittedAt(submitted).setSource("bench").build();
    }

    /** A first attempt as the router would release it to {@code llm.queue.<level>} at {@code at}. */
    public static QueuedRequest queued(String tenant, Priority level, String prompt, Instant at) {
        LlmRequest r = request(UUID.randomUUID().toString(), tenant, level, prompt, null, at);
        return QueuedRequest.newBuilder()
                .setRequest(r).setPriority(level).setOriginalPriority(level)
                .setDedupKey(r.getId()).setAttempt(1)
                .setAcceptedAt(at).setReleasedAt(at)
                .build();
    }
}
