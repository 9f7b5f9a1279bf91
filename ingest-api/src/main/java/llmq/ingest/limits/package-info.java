/** Per-tenant request and token rate limits. */
package llmq.ingest.limits;
