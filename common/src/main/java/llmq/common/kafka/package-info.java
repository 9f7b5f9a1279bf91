/** Kafka client settings shared by the services. */
package llmq.common.kafka;
