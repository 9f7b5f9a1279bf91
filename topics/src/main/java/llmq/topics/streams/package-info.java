/** Kafka Streams settings and error handling shared by llmq's Streams apps. */
package llmq.topics.streams;
