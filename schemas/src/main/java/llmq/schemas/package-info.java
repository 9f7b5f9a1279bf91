/** The record types of llmq's topics (generated in {@code llmq.avro}) and where they are listed. */
package llmq.schemas;
