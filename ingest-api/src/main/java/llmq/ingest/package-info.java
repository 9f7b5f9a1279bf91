/** ingest-api: configuration, wiring and start-up. */
package llmq.ingest;
