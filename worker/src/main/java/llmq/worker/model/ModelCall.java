package llmq.worker.model;

import llmq.avro.LlmRequest;

/**
 * One call to make: the request as submitted, the model name to send upstream (an alias
 * resolved by the endpoint pool) and the attempt number it is.
 *
 * @param request the request as submitted
 * @param model   model id the endpoint knows it by
 * @param attempt 1 for the first call, 2 for the first retry, ...
 */
public record ModelCall(LlmRequest request, String model, int attempt) {
}
