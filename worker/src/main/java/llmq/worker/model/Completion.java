package llmq.worker.model;

/**
 * What a model endpoint answered.
 *
 * @param content          assistant message text
 * @param finishReason     stop, length, ...
 * @param servedModel      model the endpoint reported
 * @param promptTokens     input tokens
 * @param completionTokens output tokens
 * @param cachedTokens     cached input tokens, 0 if not reported
 * @param estimated        true when the endpoint reported no usage and the counts are llmq's estimate
 * @param endpoint         name of the endpoint that served it
 * @param latencyMs        wall time of the call
 * @param ttftNanos        time to the first content token of a streamed answer, -1 when not streamed
 */
public record Completion(String content, String finishReason, String servedModel, int promptTokens,
                         int completionTokens, int cachedTokens, boolean estimated, String endpoint, long latencyMs,
                         long ttftNanos) {

    /** A non-streamed answer. */
    public Completion(String content, String finishReason, String servedModel, int promptTokens,
                      int completionTokens, int cachedTokens, boolean estimated, String endpoint, long latencyMs) {
        this(content, finishReason, servedModel, promptTokens, completionTokens, cachedTokens, estimated, endpoint,
                latencyMs, -1);
    }
}
