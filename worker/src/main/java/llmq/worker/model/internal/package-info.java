/** Parsing helpers of the HTTP model client; nothing outside {@code llmq.worker.model} uses them. */
package llmq.worker.model.internal;
