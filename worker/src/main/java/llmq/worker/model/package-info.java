/** Calling OpenAI-compatible model endpoints. */
package llmq.worker.model;
