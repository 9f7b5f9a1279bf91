/** Waiting on an open connection for a request's result (the OpenAI-compatible API). */
package llmq.ingest.results;
