/** Feeding the price table into its compacted topic. */
package llmq.billing.prices;
