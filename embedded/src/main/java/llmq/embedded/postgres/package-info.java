/** A real PostgreSQL server from embedded binaries, with llmq's schema. */
package llmq.embedded.postgres;
