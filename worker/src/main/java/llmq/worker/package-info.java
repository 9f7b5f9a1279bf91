/** The worker service: configuration and start-up. */
package llmq.worker;
