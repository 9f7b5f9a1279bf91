/** A Confluent-compatible development schema registry backed by a compacted Kafka topic. */
package llmq.registry;
