/** Which models may be requested. */
package llmq.ingest.models;
