/** Completion callbacks: signing and at-least-once delivery with backoff. */
package llmq.ingest.callbacks;
