/** Batches: JSONL submission in one Kafka transaction, progress and results. */
package llmq.ingest.batches;
