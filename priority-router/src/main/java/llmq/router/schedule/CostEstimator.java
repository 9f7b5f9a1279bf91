package llmq.router.schedule;

import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;

/**
 * Virtual Token Counter service of a request: input tokens + 2 × output tokens. At release the
 * input is estimated from the prompt (about 4 characters a token) and the output from
 * {@code max_tokens} (or a configured default); the completed call's real usage corrects it.
 */
public final class CostEstimator {

    /** Weight of an output token relative to an input token. */
    public static final int OUTPUT_WEIGHT = 2;

    private final int defaultOutputTokens;

    public CostEstimator(int defaultOutputTokens) {
        this.defaultOutputTokens = defaultOutputTokens;
    }

    /** Estimated input tokens of a prompt. */
    public static int promptTokens(LlmRequest r) {
        long chars = 0;
        for (ChatMessage m : r.getMessages()) {
            chars += m.getContent() == null ? 0 : m.getContent().length();
        }
        return (int) Math.min(Integer.MAX_VALUE, (chars + 3) / 4 + 4L * r.getMessages().size() + 3);
    }

    /** Estimated service of a request before it runs. */
    public long estimate(LlmRequest r) {
        Integer max = r.getParams() == null ? null : r.getParams().getMaxTokens();
        return promptTokens(r) + (long) OUTPUT_WEIGHT * (max != null ? max : defaultOutputTokens);
    }

    /** Actual service of a completed call. */
    public static long actual(int promptTokens, int completionTokens) {
        return promptTokens + (long) OUTPUT_WEIGHT * completionTokens;
    }
}
