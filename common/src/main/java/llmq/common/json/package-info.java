/** Shared JSON mapping. */
package llmq.common.json;
