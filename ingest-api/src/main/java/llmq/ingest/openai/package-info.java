/** OpenAI-compatible request and response formats. */
package llmq.ingest.openai;
