/** Exact decimal pricing of usage. */
package llmq.billing.pricing;
