/** The native API's response bodies (separate from the Avro records on the topics). */
package llmq.ingest.api;
