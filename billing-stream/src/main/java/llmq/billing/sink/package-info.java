/** The idempotent PostgreSQL sink of billed usage. */
package llmq.billing.sink;
