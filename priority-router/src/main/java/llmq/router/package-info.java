/** The priority-router service: configuration and start-up. */
package llmq.router;
