/** Billing's Prometheus metrics. */
package llmq.billing.metrics;
