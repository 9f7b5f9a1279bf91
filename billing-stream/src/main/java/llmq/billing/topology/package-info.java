/** The billing-stream Kafka Streams topology. */
package llmq.billing.topology;
