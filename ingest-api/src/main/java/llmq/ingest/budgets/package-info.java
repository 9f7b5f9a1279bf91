/** Admission by monthly budget, from the budgets billing publishes. */
package llmq.ingest.budgets;
