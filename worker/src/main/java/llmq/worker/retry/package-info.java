/** Retry decisions: backoff with jitter, {@code Retry-After}, attempt limits. */
package llmq.worker.retry;
