/** Avro serdes in the Confluent wire format. */
package llmq.schemas.serde;
