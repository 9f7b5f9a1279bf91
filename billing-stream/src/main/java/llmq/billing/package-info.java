/** The billing-stream service: configuration and start-up. */
package llmq.billing;
