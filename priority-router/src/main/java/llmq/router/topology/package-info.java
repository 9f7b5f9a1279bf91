/** The priority-router's Kafka Streams topology. */
package llmq.router.topology;
