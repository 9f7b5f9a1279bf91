/** Classification of the public llm.requests topic into priority levels. */
package llmq.router.classify;
