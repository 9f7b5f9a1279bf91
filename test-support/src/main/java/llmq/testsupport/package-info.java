/** Shared real infrastructure (Kafka, registry, PostgreSQL) for integration tests. */
package llmq.testsupport;
