/** The worker's Micrometer meters. */
package llmq.worker.metrics;
