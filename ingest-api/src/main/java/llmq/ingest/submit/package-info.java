/** Validating and admitting submissions. */
package llmq.ingest.submit;
