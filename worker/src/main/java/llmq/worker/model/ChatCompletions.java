package llmq.worker.model;

import java.util.concurrent.CompletableFuture;
import llmq.avro.LlmRequest;

/**
 * Runs one chat completion against an OpenAI-compatible endpoint. Asynchronous: hundreds of
 * calls may be in flight without a thread each. The future fails with {@link ModelCallException}.
 */
public interface ChatCompletions {

    CompletableFuture<Completion> complete(LlmRequest request, int attempt);
}
