package llmq.worker.model;

import java.util.concurrent.CompletableFuture;

/**
 * Runs one chat completion against one OpenAI-compatible endpoint. Asynchronous: hundreds of
 * calls may be in flight without a thread each. The future fails with {@link ModelCallException}.
 */
public interface ChatCompletions {

    CompletableFuture<Completion> complete(ModelCall call);
}
