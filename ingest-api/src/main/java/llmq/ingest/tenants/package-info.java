/** Tenants and API keys, as admission sees them. */
package llmq.ingest.tenants;
