/** The admin API: tenants, API keys and prices in PostgreSQL. */
package llmq.ingest.admin;
