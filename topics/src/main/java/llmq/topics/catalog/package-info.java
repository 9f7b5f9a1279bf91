/** The immutable catalog of llmq's topics and their serdes. */
package llmq.topics.catalog;
