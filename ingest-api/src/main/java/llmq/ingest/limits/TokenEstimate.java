package llmq.ingest.limits;

import llmq.ingest.submit.SubmitRequest;

/**
 * The tokens a request will use, estimated before it runs for the TPM limit: about four characters
 * per prompt token plus a few per message, plus {@code max_tokens} (or a default) for the output —
 * the same kind of estimate the router's fairness uses.
 */
public final class TokenEstimate {

    private TokenEstimate() {
    }

    public static long of(SubmitRequest r, int defaultOutputTokens) {
        long prompt = (r.promptChars() + 3) / 4 + 4L * r.messages().size();
        return prompt + (r.maxTokens() != null ? r.maxTokens() : defaultOutputTokens);
    }
}
