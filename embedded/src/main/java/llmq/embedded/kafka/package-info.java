/** A real single-node KRaft Kafka broker run in-process. */
package llmq.embedded.kafka;
