/** Calls between ingest instances: queries forwarded to the instance that owns the data. */
package llmq.ingest.cluster;
