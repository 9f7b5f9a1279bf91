/** Clients of a Confluent-compatible schema registry: over its REST API, and in memory for tests. */
package llmq.schemas.registry;
