/** Re-rating a time range of usage under the current prices, beside (never over) what was billed. */
package llmq.billing.rerate;
